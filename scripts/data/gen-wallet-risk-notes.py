#!/usr/bin/env python3
"""Generates scripts/data/wallet-risk-notes.jsonl, the demo Datanet of the dev flow.

The data is synthetic and was written for this project: every record is composed here from
templates and pattern-specific facts, with a fixed seed, so the file is the same on every run.
The addresses are random strings in the shape of each chain's addresses (they are not valid
addresses and do not belong to anyone); no record describes a real wallet, incident or person.
License: Apache-2.0, as the rest of the repository.

Each record is one short analyst note about a wallet:
  id       "wrn-0001" ...
  chain    the network the wallet is on
  address  a synthetic address in that chain's format
  pattern  one of PATTERNS below
  risk     low | medium | high | critical, derived from the facts the note states
  signals  machine-readable indicators behind the verdict
  note     1-3 plain-English sentences: what was seen, why it matters, what to do

The risk of a record follows from the facts in its note (amounts, counts, timing, role), not
from the pattern alone, so a model trained on it has to read the note to get the risk right.

Usage: python3 scripts/data/gen-wallet-risk-notes.py [OUTPUT]   (Python 3 standard library only)
"""

import json
import random
import sys
from pathlib import Path

SEED = 20240917
COUNT = 360

RISKS = ["low", "medium", "high", "critical"]

EVM = ["ethereum", "arbitrum", "base", "optimism", "polygon", "bsc", "avalanche"]

NATIVE = {
    "ethereum": "ETH", "arbitrum": "ETH", "base": "ETH", "optimism": "ETH", "polygon": "POL",
    "bsc": "BNB", "avalanche": "AVAX", "bitcoin": "BTC", "solana": "SOL", "tron": "TRX",
}

STABLES = {
    "ethereum": ["USDT", "USDC", "DAI"], "arbitrum": ["USDC", "USDT"], "base": ["USDC"],
    "optimism": ["USDC", "USDT"], "polygon": ["USDT", "USDC"], "bsc": ["USDT", "BUSD", "FDUSD"],
    "avalanche": ["USDC", "USDT"], "tron": ["USDT"], "solana": ["USDC", "USDT"],
}

B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"


class Gen:
    """Seeded choices and the small formatting helpers the pattern writers share."""

    def __init__(self, seed):
        self.r = random.Random(seed)

    def pick(self, items):
        return self.r.choice(items)

    def chance(self, p):
        return self.r.random() < p

    def between(self, lo, hi):
        return self.r.randint(lo, hi)

    def sample(self, items, k):
        return self.r.sample(items, k)

    def address(self, chain):
        if chain == "bitcoin":
            return "bc1q" + "".join(self.pick(BECH32) for _ in range(38))
        if chain == "solana":
            return "".join(self.pick(B58) for _ in range(self.between(43, 44)))
        if chain == "tron":
            return "T" + "".join(self.pick(B58) for _ in range(33))
        return "0x" + "".join(self.pick("0123456789abcdef") for _ in range(40))

    def lookalike(self, chain, head, tail):
        """A real-looking counterparty and a vanity copy sharing its first `head` and last `tail`
        characters after the prefix, quoted the way analysts shorten addresses."""
        real = self.address(chain)
        fake = self.address(chain)
        start = 2 if real.startswith("0x") else 1
        fake = real[:start + head] + fake[start + head:len(fake) - tail] + real[len(real) - tail:]
        # Show two characters past the matching ends, where the two addresses differ.
        cut, end = start + head + 2, tail + 2
        return f"{real[:cut]}...{real[-end:]}", f"{fake[:cut]}...{fake[-end:]}"


def usd(x):
    if x >= 1_000_000:
        return f"${x / 1_000_000:.1f}M"
    if x >= 10_000:
        return f"${x / 1000:.0f}k"
    return f"${x:,.0f}"


def minutes(m):
    if m == 1:
        return "1 minute"
    if m < 90:
        return f"{m} minutes"
    if m < 48 * 60:
        return f"{round(m / 60)} hours"
    return f"{round(m / 1440)} days"


def clamp(level):
    return RISKS[max(0, min(3, level))]


def action(g, risk):
    """The closing recommendation; phrasing varies, meaning tracks the risk."""
    return g.pick({
        "low": [
            "No action beyond routine monitoring.",
            "Treat as low risk; keep it on the watchlist.",
            "Nothing here justifies blocking the wallet.",
        ],
        "medium": [
            "Monitor the wallet and review it again if the pattern repeats.",
            "Flag for enhanced monitoring rather than blocking.",
            "Worth a manual look before large withdrawals are approved.",
        ],
        "high": [
            "Hold withdrawals for manual review.",
            "Require source-of-funds documentation before processing deposits.",
            "Escalate to the investigations queue.",
        ],
        "critical": [
            "Block deposits and escalate immediately.",
            "Freeze what is reachable and report to the compliance team.",
            "Treat every counterparty of this wallet as exposed.",
        ],
    }[risk])


# Each writer returns (chain, risk, signals, sentences) for one record of its pattern.

def mixer_funded(g):
    chain = g.pick(["ethereum", "ethereum", "bitcoin", "bsc", "arbitrum"])
    coin = NATIVE[chain]
    if chain == "bitcoin":
        source = g.pick(["CoinJoin rounds", "a custodial mixing service", "a coordinator-run CoinJoin"])
        denom = g.pick([0.01, 0.05, 0.1])
    else:
        source = g.pick(["a sanctioned mixer contract", "a privacy pool", "fixed-denomination mixer pools"])
        denom = g.pick([0.1, 1, 10, 100] if coin == "ETH" else [1, 10, 100])
    share = g.pick([5, 12, 25, 40, 60, 75, 85, 95, 100])
    withdrawals = g.between(2, 30)
    gap = g.pick([18, 45, 120, 600, 2880, 20160])
    dest = g.pick(["a centralized exchange deposit address", "a cross-chain bridge",
                   "a stablecoin swap", "a lending protocol", "cold storage"])
    level = 0 if share < 10 else 1 if share < 40 else 2
    if share >= 75 and gap <= 120 and dest in ("a centralized exchange deposit address", "a cross-chain bridge"):
        level = 3
    if gap >= 2880 and share < 40:
        level -= 1
    signals = ["mixer_withdrawal"]
    if denom and chain != "bitcoin":
        signals.append("fixed_denomination_deposits")
    if share >= 75:
        signals.append("no_prior_history")
    if gap <= 120:
        signals.append("fast_onward_movement")
    if dest == "a centralized exchange deposit address":
        signals.append("exchange_deposit")
    if dest == "a cross-chain bridge":
        signals.append("bridge_hop")
    risk = clamp(level)
    first = g.pick([
        f"{share}% of this wallet's inflow came from {source}, in {withdrawals} withdrawals of {denom} {coin}.",
        f"Funded almost entirely through {source}: {withdrawals} withdrawals of {denom} {coin}, {share}% of everything it received."
        if share >= 75 else
        f"Received {withdrawals} withdrawals of {denom} {coin} from {source}, about {share}% of its total inflow.",
    ])
    second = g.pick([
        f"The funds moved on to {dest} {minutes(gap)} after the last withdrawal.",
        f"It forwarded them to {dest} within {minutes(gap)}.",
    ])
    if level <= 0:
        second += " A small, slow share like this is typical of ordinary privacy use."
    elif level == 3:
        second += " Fresh mixer money reaching an off-ramp this fast is a classic cash-out."
    return chain, risk, signals, [first, second, action(g, risk)]


def peel_chain(g):
    chain = g.pick(["bitcoin", "bitcoin", "bitcoin", "ethereum"])
    coin = NATIVE[chain]
    start = g.pick([3.2, 12.5, 48, 150, 410]) if chain == "bitcoin" else g.pick([40, 250, 1200])
    hops = g.pick([4, 7, 11, 18, 26, 40, 63])
    span = g.pick([9, 25, 70, 300, 1440, 4320])
    peel = g.pick([1, 2, 3, 5, 8])
    end = g.pick(["exchange deposit addresses", "an OTC desk cluster", "an unattributed cluster",
                  "a gambling service", "a payment processor"])
    origin = g.pick(["theft", "none", "none", "ransomware", "darknet market", "exchange hot wallet"])
    signals = ["peel_chain", "single_use_change"]
    level = 1 if hops < 10 else 2
    if origin in ("theft", "ransomware", "darknet market"):
        level = 3 if hops >= 10 else 2
        signals.append("illicit_source")
    if origin == "exchange hot wallet":
        level = 0
        signals.append("consistent_fee_rate")
    if span <= 70:
        signals.append("rapid_timing")
    if end == "exchange deposit addresses":
        signals.append("exchange_deposit")
    risk = clamp(level)
    rest = ("passing the rest on as change" if chain == "bitcoin"
            else "forwarding the rest to a newly created address")
    first = (f"Starting from {start} {coin}, the funds ran through {hops} hops in {minutes(span)}, "
             f"each hop peeling about {peel}% to a fresh address and {rest}.")
    if origin == "exchange hot wallet":
        second = ("The chain starts at an exchange hot wallet and keeps a constant fee rate, which matches "
                  "routine withdrawal processing rather than laundering.")
    elif origin == "none":
        second = g.pick([
            f"The peeled amounts end up at {end}; no illicit source is known yet, but the structure is built to break tracing.",
            f"No known illicit origin, though the peels converge on {end}.",
        ])
    else:
        second = (f"The source traces back to {origin} proceeds, and the peels land at {end}.")
    return chain, risk, signals, [first, second, action(g, risk)]


def approval_phishing(g):
    chain = g.pick(EVM)
    role = g.pick(["drainer", "drainer", "victim", "victim", "collector"])
    token = g.pick(STABLES.get(chain, ["USDC"]) + ["WETH", "stETH", "an NFT collection"])
    kind = "setApprovalForAll" if token == "an NFT collection" else g.pick(["an unlimited approve", "a Permit2 signature", "an off-chain permit signature"])
    lure = g.pick(["a fake airdrop claim page", "a cloned mint site", "a fake wallet-support chat",
                   "a spoofed staking dashboard", "a phishing link in a compromised project Discord"])
    spender_age = g.pick([2, 5, 20, 72, 400])
    victims = g.pick([1, 3, 9, 24, 70, 180])
    drained = g.pick([900, 4800, 26000, 140000, 1_200_000])
    signals = []
    signals.append("set_approval_for_all" if kind == "setApprovalForAll"
                   else "permit_signature" if "permit" in kind.lower() else "unlimited_approval")
    if role == "victim":
        revoked = g.chance(0.4)
        risk = "low" if revoked else "medium"
        signals.append("open_approval" if not revoked else "approval_revoked")
        first = (f"This wallet granted {kind} on {token} to a contract deployed {spender_age} hours "
                 f"earlier, after visiting {lure}.")
        second = ("It revoked the approval before anything was taken." if revoked else
                  "The approval is still open, so the wallet can be emptied at any time.")
        closing = ("Tell the owner the incident is closed." if revoked else
                   "Warn the owner to revoke the approval and move funds to a new wallet.")
        return chain, risk, signals, [first, second, closing]
    signals += ["unverified_spender", "drainer_kit_bytecode"]
    if victims >= 20:
        signals.append("many_victims")
    if role == "collector":
        level = 2 if drained < 100000 else 3
        first = (f"Receives the proceeds of a wallet drainer: {victims} victims who signed {kind} "
                 f"on {token}, {usd(drained)} in total.")
        second = g.pick([
            "It swaps everything to the native coin within the hour and splits it across fresh wallets.",
            "It takes the operator's cut and forwards the rest to a bridge.",
        ])
    else:
        level = 3 if victims >= 20 or drained >= 100000 else 2
        first = (f"Deployed the spender contract behind {lure}; {victims} wallet{'s' if victims > 1 else ''} signed {kind} on "
                 f"{token} and lost {usd(drained)}.")
        second = g.pick([
            f"The contract was only {spender_age} hours old and unverified when the first victim signed.",
            "Its bytecode matches a known drainer kit with the fee split hard-coded.",
        ])
    risk = clamp(level)
    return chain, risk, signals, [first, second, action(g, risk)]


def dust_attack(g):
    chain = g.pick(["bitcoin", "bitcoin", "ethereum", "bsc", "polygon", "tron", "solana"])
    role = g.pick(["sender", "recipient", "recipient"])
    if chain == "bitcoin":
        dust = f"{g.pick([294, 330, 546, 600, 1000])} sats"
    else:
        dust = f"{g.pick(['0.000001', '0.00001', '0.0001'])} {NATIVE[chain]}"
    batch = g.pick([40, 300, 1200, 5000, 22000])
    signals = ["dust_output"]
    if role == "sender":
        scam_token = chain != "bitcoin" and g.chance(0.5)
        signals += ["batch_send", "no_value_transfer"]
        if scam_token:
            signals.append("scam_token_name_url")
            first = (f"Airdropped a worthless token whose name is a URL to {batch} wallets; "
                     "the site asks visitors to connect and sign to \"claim\".")
            level = 2 if batch >= 5000 else 1
        else:
            first = f"Sent {dust} to {batch} addresses in a handful of transactions."
            level = 1 if batch >= 1200 else 0
        second = g.pick([
            "The goal is to link addresses when recipients spend the dust together with their own coins.",
            "The sender keeps no balance of its own and is refilled by a single funder.",
            "Such blasts rarely steal funds directly; they map who owns what.",
        ])
        risk = clamp(level)
        return chain, risk, signals, [first, second, action(g, risk)]
    consolidated = g.chance(0.45)
    if consolidated:
        signals.append("consolidation_with_dust")
        first = (f"Received {dust} from a known dusting address and later spent it in the same "
                 f"transaction as {g.between(3, 14)} of its own outputs.")
        second = "That consolidation links those addresses to one owner, which is exactly what the duster wanted."
        risk = "medium"
    else:
        first = f"Received {dust} from a dusting campaign that hit {batch} wallets."
        second = g.pick([
            "The dust has not been touched, so nothing about the owner has leaked.",
            "The wallet never interacted with the dust or the sender.",
        ])
        risk = "low"
    return chain, risk, signals, [first, second, action(g, risk)]


def address_poisoning(g):
    chain = g.pick(["ethereum", "tron", "tron", "bsc", "polygon", "arbitrum", "base"])
    stable = g.pick(STABLES[chain])
    role = g.pick(["poisoner", "poisoner", "victim", "target"])
    head, tail = g.pick([(4, 4), (5, 4), (6, 5), (3, 6)])
    targets = g.pick([12, 80, 450, 2600])
    minutes_after = g.pick([1, 2, 4, 11, 35])
    lost = g.pick([1200, 9500, 48000, 310000, 2_100_000])
    signals = ["vanity_lookalike"]
    if role == "poisoner":
        zero = g.chance(0.6)
        signals.append("zero_value_transfer" if zero else "tiny_transfer")
        signals.append("follows_real_transfer")
        if targets >= 450:
            signals.append("mass_targeting")
        got_paid = g.chance(0.4)
        first = (f"Generates vanity addresses that share the first {head} and last {tail} characters with "
                 f"its targets' usual counterparties and sends them "
                 f"{'zero-value transferFrom calls' if zero else 'tiny ' + stable + ' transfers'} "
                 f"{minutes(minutes_after)} after each real payment.")
        if got_paid:
            signals.append("copied_address_loss")
            real, fake = g.lookalike(chain, head, tail)
            second = (f"At least one target copied {fake} from its history instead of {real} and sent "
                      f"{usd(lost)} {stable} to it.")
            risk = "critical"
        else:
            second = f"It has poisoned the histories of about {targets} wallets; no successful theft is confirmed yet."
            risk = "high"
        return chain, risk, signals, [first, second, action(g, risk)]
    if role == "victim":
        signals.append("copied_address_loss")
        real, fake = g.lookalike(chain, head, tail)
        first = (f"Sent {usd(lost)} {stable} to {fake}, a lookalike of its exchange deposit address {real} "
                 f"matching the first {head} and last {tail} characters.")
        second = "The lookalike had planted a zero-value transfer in this wallet's history minutes earlier."
        return chain, "medium", signals, [first, second,
                                          "The wallet is a victim, not a threat; trace the stolen funds instead."]
    signals.append("zero_value_transfer")
    first = (f"Its transaction history contains {g.between(2, 9)} zero-value transfers from lookalikes of "
             "addresses it pays regularly.")
    second = "No funds have gone to the lookalikes, but any copy-paste from history is now a trap."
    return chain, "low", signals, [first, second, "Warn the owner to use an address book rather than history."]


def sandwich_bot(g):
    chain = g.pick(["ethereum", "ethereum", "bsc", "base", "arbitrum", "solana"])
    coin = NATIVE[chain]
    style = g.pick(["sandwich", "sandwich", "sandwich", "backrun"])
    per_day = g.pick([15, 60, 240, 900])
    slip = g.pick([0.3, 0.8, 2.5, 6, 12])
    # Profit per hit grows with the slippage the bot can force; quoted in the chain's coin.
    per_eth = {"ETH": 1, "BNB": 5, "SOL": 20}[coin]
    profit = round({0.3: 0.004, 0.8: 0.015, 2.5: 0.05, 6: 0.18, 12: 0.45}[slip] * per_eth * g.pick([0.6, 1, 1.5]), 3)
    venue = g.pick(["Uniswap v2-style pools", "new memecoin pools", "concentrated-liquidity pools",
                    "low-liquidity stablecoin pools"])
    private = g.chance(0.6)
    signals = []
    if style == "backrun":
        signals += ["arbitrage_only", "same_block_positions"]
        first = (f"Bot contract that backruns about {per_day} large swaps a day on {venue}, "
                 f"earning around {round(0.01 * per_eth * g.pick([0.5, 1, 2]), 3)} {coin} per trade by restoring prices across pools.")
        second = "It never trades ahead of a user, so victims pay nothing extra."
        return chain, "low", signals, [first, second, action(g, "low")]
    signals += ["frontrun_backrun_pair", "victim_slippage"]
    if private:
        signals.append("private_bundle")
    else:
        signals.append("high_gas_priority")
    funded_by_mixer = g.chance(0.2)
    level = 1
    if slip >= 12 and per_day >= 240:
        level = 2
    if funded_by_mixer:
        level = 2
        signals.append("mixer_funded_operator")
    risk = clamp(level)
    first = (f"Wraps roughly {per_day} user swaps a day on {venue} between its own buy and sell, "
             f"pushing victims to an average {slip}% slippage and netting about {profit} {coin} per sandwich.")
    second = g.pick([
        f"It {'sends bundles straight to block builders' if private else 'outbids victims with high priority fees'}, "
        "so users cannot see it coming.",
        "The extraction is legal grey-zone MEV rather than theft, but it costs retail traders on every hit.",
    ])
    if funded_by_mixer:
        second += " Its operator was funded through a mixer."
    return chain, risk, signals, [first, second, action(g, risk)]


def wash_trading(g):
    chain = g.pick(["ethereum", "ethereum", "solana", "bsc", "base", "polygon"])
    market = g.pick(["NFTs from a single collection", "NFTs on a marketplace that pays trading rewards",
                     "a newly launched token", "a low-cap token on a DEX"])
    wallets = g.pick([2, 3, 5, 8, 14])
    volume = g.pick([8000, 60000, 350000, 2_400_000])
    share = g.pick([8, 20, 45, 70, 92])
    funder = g.chance(0.7)
    signals = ["circular_transfers", "self_trade"]
    if funder:
        signals.append("common_funder")
    if "rewards" in market:
        signals.append("reward_farming")
    if "token" in market:
        signals.append("fake_volume")
    others = "one other wallet" if wallets == 2 else f"{wallets - 1} other wallets"
    level = 1
    if (share >= 45 and volume >= 60000) or volume >= 2_400_000:
        level = 2
    elif share < 20 and volume < 350000:
        level = 0
    risk = clamp(level)
    first = (f"Trades {market} back and forth with {others}"
             f"{' funded from the same source' if funder else ''}, producing {usd(volume)} of volume.")
    second = g.pick([
        f"Those trades make up {share}% of the market's reported volume.",
        f"About {share}% of all volume in that market comes from this closed loop.",
    ])
    if "rewards" in market:
        second += " The loop exists to farm the marketplace's token rewards."
    elif "token" in market and share >= 20:
        second += " Inflated volume is a common set-up for listing the token and selling to newcomers."
    return chain, risk, signals, [first, second, action(g, risk)]


def rug_pull_deployer(g):
    chain = g.pick(["ethereum", "bsc", "bsc", "base", "solana", "arbitrum"])
    coin = NATIVE[chain]
    tokens = g.pick([1, 1, 3, 7, 19])
    hours = g.pick([2, 6, 30, 96])
    raised = g.pick([4, 15, 60, 240]) if coin in ("ETH",) else g.pick([20, 90, 400, 1500])
    trick = g.pick(["a hidden mint function", "a sell blacklist", "an adjustable 99% sell tax",
                    "unlocked LP tokens", "a proxy that lets the owner swap the code"])
    signals = ["liquidity_removed" if trick != "an adjustable 99% sell tax" else "honeypot_sell_block",
               "owner_not_renounced"]
    if trick == "a hidden mint function":
        signals.append("hidden_mint")
    if trick == "a sell blacklist":
        signals.append("honeypot_sell_block")
    if trick == "unlocked LP tokens":
        signals.append("lp_unlocked")
    if tokens >= 3:
        signals.append("serial_deployer")
    level = 3 if tokens >= 3 or raised >= 60 else 2
    risk = clamp(level)
    if tokens == 1:
        first = (f"Deployed a token with {trick}, seeded liquidity and pulled {raised} {coin} "
                 f"out of the pool {hours} hours after launch.")
    else:
        first = (f"Serial deployer: {tokens} tokens so far, each with {trick}, each drained within "
                 f"about {hours} hours; the latest took {raised} {coin}.")
    second = g.pick([
        "Proceeds go to the same funding wallet that seeds the next launch.",
        "Social accounts promoting each token were created the week of launch.",
        "Buyers could not sell before the liquidity was gone.",
    ])
    return chain, risk, signals, [first, second, action(g, risk)]


def bridge_laundering(g):
    chain = g.pick(["ethereum", "ethereum", "bsc", "arbitrum", "avalanche", "bitcoin"])
    coin = NATIVE[chain]
    hops = g.pick([1, 2, 3, 5, 8])
    chains = g.pick([2, 3, 4, 5])
    split = g.pick([4, 12, 40, 120])
    share = g.pick([0.5, 3, 15, 60, 100])
    month = g.pick(["January", "March", "April", "June", "August", "October", "November"])
    if chain == "bitcoin":
        swap, step = g.pick([("goes through CoinJoin rounds", "CoinJoin"), ("is sold through an OTC desk", "sale"),
                             ("trades for privacy coins", "trade")])
    else:
        swap, step = g.pick([(f"swaps to {coin}", "swap"), ("swaps into BTC through a cross-chain router", "swap"),
                             ("trades for privacy coins", "trade"), ("goes into a mixer", "mixer deposit")])
    signals = ["exploit_proceeds", "cross_chain_hops"]
    if split >= 40:
        signals.append("split_into_many")
    if "mixer" in swap or "CoinJoin" in swap:
        signals.append("mixer_deposit")
    # Taint thins with distance: a wallet far downstream holding a sliver may just be a recipient.
    if share >= 15:
        level = 3
    elif share >= 3:
        level = 3 if hops <= 2 else 2
    else:
        level = 2 if hops <= 2 else 1
    risk = clamp(level)
    first = g.pick([
        f"Holds funds {hops} hop{'s' if hops > 1 else ''} from the {month} exploit of a cross-chain bridge; "
        f"{share}% of its balance traces to the stolen assets.",
        f"{'Directly' if hops == 1 else str(hops) + ' hops'} downstream of the bridge exploit in {month}, "
        f"with {share}% of its inflow tainted.",
    ])
    second = g.pick([
        f"The proceeds moved across {chains} chains and were split into {split} wallets before the {step}.",
        f"From here the money {swap} after crossing {chains} chains.",
    ])
    if level < 3:
        second += " The taint is thin this far from the source; the wallet may be an unwitting recipient."
    return chain, risk, signals, [first, second, action(g, risk)]


def airdrop_farming(g):
    chain = g.pick(["arbitrum", "optimism", "base", "solana", "ethereum", "polygon"])
    coin = NATIVE[chain]
    cluster = g.pick([6, 25, 120, 800, 3400])
    topup = g.pick([0.003, 0.01, 0.02, 0.05]) if coin == "ETH" else g.pick([0.5, 1, 5])
    actions = g.pick(["bridge in, swap, provide liquidity, bridge out", "mint the same NFT and vote once",
                      "deposit, borrow, repay, withdraw", "swap on three DEXs in the same order"])
    window = g.pick([3, 10, 45, 180])
    signals = ["fresh_wallet", "identical_tx_sequence"]
    if cluster >= 25:
        signals.append("sybil_cluster")
    signals += ["common_funder", "batched_gas_topups"] if g.chance(0.7) else ["minimal_activity"]
    # Farming takes nothing from users; only an outsized cluster threatens the distribution.
    level = 0 if cluster < 25 else 2 if cluster >= 3400 else 1
    risk = clamp(level)
    first = (f"One of {cluster} wallets created the same week, each topped up with {topup} {coin} "
             f"and each repeating the same steps ({actions}) within a {window}-minute window.")
    second = g.pick([
        "It looks built to farm an expected airdrop rather than to use the protocol.",
        "Nothing is stolen; the harm is to the protocol's token distribution.",
        "The wallets go dormant once the snapshot date passes.",
    ])
    if level == 2:
        second += " A cluster this size can capture a meaningful share of the allocation."
    return chain, risk, signals, [first, second, action(g, risk)]


PATTERNS = {
    "mixer-funded": mixer_funded,
    "rapid peel chain": peel_chain,
    "approval phishing": approval_phishing,
    "dust attack": dust_attack,
    "address poisoning": address_poisoning,
    "sandwich bot": sandwich_bot,
    "wash trading": wash_trading,
    "rug-pull deployer": rug_pull_deployer,
    "bridge exploit laundering": bridge_laundering,
    "fresh-wallet airdrop farming": airdrop_farming,
}


def generate(count=COUNT, seed=SEED):
    g = Gen(seed)
    names = list(PATTERNS)
    order = [names[i % len(names)] for i in range(count)]
    g.r.shuffle(order)
    seen = set()
    records = []
    for pattern in order:
        # Redraw the rare exact repeats, so every note in the Datanet is distinct content.
        for _ in range(50):
            chain, risk, signals, sentences = PATTERNS[pattern](g)
            # One to three sentences: the recommendation goes when the facts already take three,
            # and now and then anyway, as real notes often skip it.
            if sum(part.count(". ") + 1 for part in sentences) > 3 or g.chance(0.2):
                sentences = sentences[:-1]
            note = " ".join(sentences)
            if note not in seen:
                break
        seen.add(note)
        records.append({
            "id": f"wrn-{len(records) + 1:04d}",
            "chain": chain,
            "address": g.address(chain),
            "pattern": pattern,
            "risk": risk,
            "signals": signals,
            "note": note,
        })
    return records


def main():
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).with_name("wallet-risk-notes.jsonl")
    records = generate()
    with open(out, "w", encoding="utf-8", newline="\n") as f:
        for record in records:
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
    print(f"wrote {len(records)} records to {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
