//! The training report as JSON, and the loss curve as a PNG drawn here (no plotting crate):
//! training loss per step in blue, held-out loss before and after as red markers at the first
//! and last step, light grid lines, and the axes' ranges printed with a small built-in digit font.

use super::{trainer::TrainReport, TrainConfig, TrainError};
use std::path::Path;

/// The report as a JSON value: config, per-step log, held-out loss and perplexity before and
/// after, data and timing.
pub fn report_json(report: &TrainReport, config: &TrainConfig, base: &str) -> serde_json::Value {
	let steps: Vec<serde_json::Value> = report
		.steps
		.iter()
		.map(|s| {
			serde_json::json!({
				"step": s.step, "loss": s.loss, "learning_rate": s.learning_rate,
				"grad_norm": s.grad_norm, "tokens": s.tokens, "elapsed_ms": s.elapsed_ms,
			})
		})
		.collect();
	let targets: Vec<&str> = config.lora.targets.iter().map(|t| t.hf_name()).collect();
	serde_json::json!({
		"base_model": base,
		"config": {
			"rank": config.lora.rank, "alpha": config.lora.alpha, "dropout": config.lora.dropout,
			"target_modules": targets, "learning_rate": config.learning_rate,
			"warmup_steps": config.warmup_steps, "steps": config.steps,
			"batch_size": config.batch_size, "grad_accum": config.grad_accum,
			"seq_len": config.seq_len, "heldout_permille": config.heldout_permille,
			"seed": config.seed, "weight_decay": config.adamw.weight_decay,
			"max_grad_norm": config.max_grad_norm,
		},
		"data": {
			"train_documents": report.train_documents, "heldout_documents": report.heldout_documents,
			"train_examples": report.train_examples, "heldout_examples": report.heldout_examples,
		},
		"heldout_before": { "loss": report.before.loss, "perplexity": report.before.perplexity, "tokens": report.before.tokens },
		"heldout_after": { "loss": report.after.loss, "perplexity": report.after.perplexity, "tokens": report.after.tokens },
		"parameters": report.parameters,
		"seconds": report.seconds,
		"steps": steps,
	})
}

/// An RGB canvas.
struct Canvas {
	width: usize,
	height: usize,
	pixels: Vec<u8>,
}

impl Canvas {
	fn new(width: usize, height: usize) -> Self {
		Self { width, height, pixels: vec![255; width * height * 3] }
	}

	fn set(&mut self, x: i64, y: i64, rgb: [u8; 3]) {
		if x < 0 || y < 0 || x as usize >= self.width || y as usize >= self.height {
			return;
		}
		let i = (y as usize * self.width + x as usize) * 3;
		if let Some(px) = self.pixels.get_mut(i..i + 3) {
			px.copy_from_slice(&rgb);
		}
	}

	/// A line, two pixels wide (Bresenham).
	fn line(&mut self, (x0, y0): (i64, i64), (x1, y1): (i64, i64), rgb: [u8; 3]) {
		let (dx, dy) = ((x1 - x0).abs(), -(y1 - y0).abs());
		let (sx, sy) = (if x0 < x1 { 1 } else { -1 }, if y0 < y1 { 1 } else { -1 });
		let (mut x, mut y, mut err) = (x0, y0, dx + dy);
		loop {
			self.set(x, y, rgb);
			self.set(x, y + 1, rgb);
			if x == x1 && y == y1 {
				break;
			}
			let e2 = 2 * err;
			if e2 >= dy {
				err += dy;
				x += sx;
			}
			if e2 <= dx {
				err += dx;
				y += sy;
			}
		}
	}

	fn square(&mut self, (x, y): (i64, i64), r: i64, rgb: [u8; 3]) {
		for dx in -r..=r {
			for dy in -r..=r {
				self.set(x + dx, y + dy, rgb);
			}
		}
	}

	/// Digits, '.', '-' and 'e' in a 3×5 font scaled by 2, left edge at `x`, top at `y`.
	fn text(&mut self, x: i64, y: i64, s: &str, rgb: [u8; 3]) {
		for (n, ch) in s.chars().enumerate() {
			let Some(rows) = glyph(ch) else { continue };
			for (r, bits) in rows.iter().enumerate() {
				for c in 0..3 {
					if bits & (0b100 >> c) != 0 {
						let (px, py) = (x + (n as i64) * 8 + c * 2, y + r as i64 * 2);
						self.square((px, py), 0, rgb);
						self.set(px + 1, py, rgb);
						self.set(px, py + 1, rgb);
						self.set(px + 1, py + 1, rgb);
					}
				}
			}
		}
	}

	fn png(&self) -> Result<Vec<u8>, TrainError> {
		let mut out = Vec::new();
		let mut encoder = png::Encoder::new(&mut out, self.width as u32, self.height as u32);
		encoder.set_color(png::ColorType::Rgb);
		encoder.set_depth(png::BitDepth::Eight);
		let mut writer = encoder.write_header().map_err(|e| TrainError::Io(format!("png: {e}")))?;
		writer.write_image_data(&self.pixels).map_err(|e| TrainError::Io(format!("png: {e}")))?;
		writer.finish().map_err(|e| TrainError::Io(format!("png: {e}")))?;
		Ok(out)
	}
}

fn glyph(ch: char) -> Option<[u8; 5]> {
	Some(match ch {
		'0' => [0b111, 0b101, 0b101, 0b101, 0b111],
		'1' => [0b010, 0b110, 0b010, 0b010, 0b111],
		'2' => [0b111, 0b001, 0b111, 0b100, 0b111],
		'3' => [0b111, 0b001, 0b111, 0b001, 0b111],
		'4' => [0b101, 0b101, 0b111, 0b001, 0b001],
		'5' => [0b111, 0b100, 0b111, 0b001, 0b111],
		'6' => [0b111, 0b100, 0b111, 0b101, 0b111],
		'7' => [0b111, 0b001, 0b010, 0b010, 0b010],
		'8' => [0b111, 0b101, 0b111, 0b101, 0b111],
		'9' => [0b111, 0b101, 0b111, 0b001, 0b111],
		'.' => [0b000, 0b000, 0b000, 0b000, 0b010],
		'-' => [0b000, 0b000, 0b111, 0b000, 0b000],
		'e' => [0b000, 0b111, 0b101, 0b110, 0b111],
		_ => return None,
	})
}

/// The loss curve as PNG bytes (640 × 400).
pub fn loss_curve_png(report: &TrainReport) -> Result<Vec<u8>, TrainError> {
	let (w, h) = (640i64, 400i64);
	let (left, right, top, bottom) = (70i64, 20i64, 20i64, 40i64);
	let mut canvas = Canvas::new(w as usize, h as usize);
	let mut values: Vec<f64> = report.steps.iter().map(|s| f64::from(s.loss)).collect();
	values.extend([report.before.loss, report.after.loss]);
	let finite: Vec<f64> = values.into_iter().filter(|v| v.is_finite()).collect();
	let (mut lo, mut hi) =
		finite.iter().fold((f64::MAX, f64::MIN), |(l, h), v| (l.min(*v), h.max(*v)));
	if finite.is_empty() {
		(lo, hi) = (0.0, 1.0);
	}
	if hi - lo < 1e-6 {
		hi = lo + 1.0;
	}
	let pad = (hi - lo) * 0.05;
	let (lo, hi) = (lo - pad, hi + pad);
	let last = report.steps.len().max(2) as f64;
	let px = |step: f64| left + ((step - 1.0) / (last - 1.0) * (w - left - right) as f64) as i64;
	let py = |loss: f64| top + ((hi - loss) / (hi - lo) * (h - top - bottom) as f64) as i64;

	let grid = [225, 225, 225];
	for i in 0..=4 {
		let y = top + i * (h - top - bottom) / 4;
		canvas.line((left, y), (w - right, y), grid);
	}
	let axis = [60, 60, 60];
	canvas.line((left, top), (left, h - bottom), axis);
	canvas.line((left, h - bottom), (w - right, h - bottom), axis);
	canvas.text(4, top - 4, &format!("{hi:.3}"), axis);
	canvas.text(4, h - bottom - 10, &format!("{lo:.3}"), axis);
	canvas.text(left, h - bottom + 10, "1", axis);
	let steps = report.steps.len().to_string();
	canvas.text(w - right - 8 * steps.len() as i64, h - bottom + 10, &steps, axis);

	let blue = [31, 100, 200];
	let points: Vec<(i64, i64)> = report
		.steps
		.iter()
		.filter(|s| s.loss.is_finite())
		.map(|s| (px(f64::from(s.step)), py(f64::from(s.loss))))
		.collect();
	for pair in points.windows(2) {
		if let [a, b] = pair {
			canvas.line(*a, *b, blue);
		}
	}
	if let [only] = points.as_slice() {
		canvas.square(*only, 2, blue);
	}
	let red = [200, 40, 40];
	if report.before.loss.is_finite() {
		canvas.square((px(1.0), py(report.before.loss)), 4, red);
	}
	if report.after.loss.is_finite() {
		canvas.square((px(last), py(report.after.loss)), 4, red);
	}
	canvas.png()
}

/// Writes `report.json` and `loss.png` into `dir`.
pub fn write_report(
	dir: &Path,
	report: &TrainReport,
	config: &TrainConfig,
	base: &str,
) -> Result<(), TrainError> {
	let json = serde_json::to_string_pretty(&report_json(report, config, base))
		.map_err(|e| TrainError::Io(e.to_string()))?;
	let write = |name: &str, bytes: &[u8]| {
		let path = dir.join(name);
		std::fs::write(&path, bytes).map_err(|e| TrainError::Io(format!("{}: {e}", path.display())))
	};
	write("report.json", json.as_bytes())?;
	write("loss.png", &loss_curve_png(report)?)
}
