//! AdamW with decoupled weight decay (as PyTorch's `AdamW`), and the learning-rate schedule:
//! linear warmup to the peak, then cosine decay to a tenth of it at the last step.
//!
//! Parameters and optimizer state live on the host as flat `f32` vectors; updates run in a
//! fixed order, so they are bit-for-bit reproducible.

/// AdamW hyperparameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdamWConfig {
	/// First-moment decay.
	pub beta1: f32,
	/// Second-moment decay.
	pub beta2: f32,
	/// Added to the root of the second moment.
	pub eps: f32,
	/// Decoupled weight decay (applied as `p -= lr * wd * p`).
	pub weight_decay: f32,
}

impl Default for AdamWConfig {
	fn default() -> Self {
		Self { beta1: 0.9, beta2: 0.999, eps: 1e-8, weight_decay: 0.0 }
	}
}

/// The moments of one parameter vector.
#[derive(Debug, Clone, Default)]
struct Moments {
	m: Vec<f32>,
	v: Vec<f32>,
}

/// AdamW over a list of parameter vectors (the same list, in the same order, each step).
#[derive(Debug, Clone)]
pub struct AdamW {
	config: AdamWConfig,
	step: i32,
	moments: Vec<Moments>,
}

impl AdamW {
	/// A fresh optimizer.
	pub fn new(config: AdamWConfig) -> Self {
		Self { config, step: 0, moments: Vec::new() }
	}

	/// Steps taken.
	pub fn steps(&self) -> i32 {
		self.step
	}

	/// One update of `params` (paired with their gradients `grads`) at learning rate `lr`.
	pub fn step<'a>(&mut self, lr: f32, params: impl Iterator<Item = (&'a mut [f32], &'a [f32])>) {
		self.step = self.step.saturating_add(1);
		let c = self.config;
		let bias1 = 1.0 - c.beta1.powi(self.step);
		let bias2 = 1.0 - c.beta2.powi(self.step);
		for (i, (p, g)) in params.enumerate() {
			if self.moments.len() <= i {
				self.moments.push(Moments::default());
			}
			let Some(state) = self.moments.get_mut(i) else { continue };
			if state.m.len() != p.len() {
				state.m = vec![0.0; p.len()];
				state.v = vec![0.0; p.len()];
			}
			for (((p, g), m), v) in p.iter_mut().zip(g).zip(&mut state.m).zip(&mut state.v) {
				*p -= lr * c.weight_decay * *p;
				*m = c.beta1 * *m + (1.0 - c.beta1) * g;
				*v = c.beta2 * *v + (1.0 - c.beta2) * g * g;
				let m_hat = *m / bias1;
				let v_hat = *v / bias2;
				*p -= lr * m_hat / (v_hat.sqrt() + c.eps);
			}
		}
	}
}

/// The learning rate at `step` (0-based) of `steps`: `peak * (step + 1) / warmup` during
/// warmup, then cosine from `peak` down to `peak / 10` at the last step.
pub fn learning_rate(peak: f32, step: u32, warmup: u32, steps: u32) -> f32 {
	if step < warmup {
		return peak * (step + 1) as f32 / warmup as f32;
	}
	let span = steps.saturating_sub(warmup).saturating_sub(1).max(1);
	let progress = (step.saturating_sub(warmup) as f32 / span as f32).min(1.0);
	let floor = peak / 10.0;
	floor + (peak - floor) * 0.5 * (1.0 + (std::f32::consts::PI * progress).cos())
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn adamw_moves_against_the_gradient_and_decays_weights() {
		let mut opt = AdamW::new(AdamWConfig::default());
		let mut p = vec![1.0f32, -1.0];
		let g = vec![0.5f32, -2.0];
		opt.step(0.1, std::iter::once((p.as_mut_slice(), g.as_slice())));
		// First Adam step moves each coordinate by lr * sign(g) (bias-corrected m/sqrt(v) = ±1).
		assert!((p[0] - 0.9).abs() < 1e-5 && (p[1] + 0.9).abs() < 1e-5, "{p:?}");
		assert_eq!(opt.steps(), 1);

		let mut decay = AdamW::new(AdamWConfig { weight_decay: 0.5, ..Default::default() });
		let mut q = vec![2.0f32];
		decay.step(0.1, std::iter::once((q.as_mut_slice(), [0.0f32].as_slice())));
		// Zero gradient: only the decoupled decay acts, 2 - 0.1 * 0.5 * 2.
		assert!((q[0] - 1.9).abs() < 1e-6, "{q:?}");
	}

	#[test]
	fn schedule_warms_up_then_decays_to_a_tenth() {
		assert!((learning_rate(1.0, 0, 4, 20) - 0.25).abs() < 1e-6);
		assert!((learning_rate(1.0, 3, 4, 20) - 1.0).abs() < 1e-6);
		assert!((learning_rate(1.0, 4, 4, 20) - 1.0).abs() < 1e-6);
		assert!((learning_rate(1.0, 19, 4, 20) - 0.1).abs() < 1e-6);
		let mid = learning_rate(1.0, 11, 4, 20);
		assert!(mid < 1.0 && mid > 0.1);
		// No warmup: starts at the peak.
		assert!((learning_rate(2.0, 0, 0, 10) - 2.0).abs() < 1e-6);
	}
}
