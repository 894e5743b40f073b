"""Post-trade reports from a run directory -- a backtest's or a live node's, the same way.

A run directory is what ``backtests.journal.RunJournal`` writes at the end of a run (a backtest
always; a live node with ``jarvis node --run-dir``). From it this module builds:

* orders, fills, positions and account reports (NautilusTrader's ``ReportProvider``, as saved);
* the ``PortfolioAnalyzer`` statistics, plus the maximum drawdown of the account's total balance
  from the starting balance on (realized only: open positions' unrealized PnL is not in the
  account's balance history; NautilusTrader registers no drawdown statistic by default);
* PnL per strategy and per regime, and how much of it came from funding;
* the regime timeline and each strategy's state transitions;
* ``tearsheet.html``: NautilusTrader's tearsheet (``create_tearsheet_from_stats``) followed by a
  chart of each instrument's price with the regime timeline as coloured bands and the strategy
  state transitions as markers.

Attribution rules (stated because a trader will add the numbers up):

* a position's realized PnL (fills' PnL minus fees, plus funding booked on it) belongs to its
  strategy;
* per regime, a position's realized PnL belongs to the regime its instrument was in when the
  position was closed (still open: at the end of the run); before the first regime change an
  instrument is ``UNCLASSIFIED``.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from dataclasses import dataclass
from decimal import Decimal
from decimal import InvalidOperation
from pathlib import Path
from typing import Any
from typing import Final

import pandas as pd

__all__ = [
    "REGIME_SECTION_ID",
    "RunReport",
    "build_report",
    "load_run",
    "max_drawdown",
    "run_digest",
    "write_report",
]

REGIME_SECTION_ID: Final[str] = "jarvis-regime-timeline"
"""The HTML id of the regime-timeline section added to the tearsheet."""
UNCLASSIFIED: Final[str] = "UNCLASSIFIED"
_REGIME_COLOURS: Final[dict[str, str]] = {
    "SIDEWAYS": "rgba(46, 134, 222, 0.15)",
    "EXPANSION": "rgba(235, 77, 75, 0.15)",
    "TREND": "rgba(106, 176, 76, 0.15)",
    "UNKNOWN": "rgba(149, 165, 166, 0.15)",
}


@dataclass(frozen=True)
class RunReport:
    """Everything a trader reviews about one run (see module notes)."""

    run: dict[str, Any]
    orders: pd.DataFrame
    fills: pd.DataFrame
    positions: pd.DataFrame
    account: pd.DataFrame
    stats: dict[str, Any]
    returns: pd.Series
    max_drawdown: Decimal
    max_drawdown_pct: float
    funding_total: Decimal
    fees_total: Decimal
    pnl_by_strategy: dict[str, Decimal]
    pnl_by_regime: dict[str, Decimal]
    regime_timeline: list[dict[str, Any]]
    state_transitions: list[dict[str, Any]]
    prices: pd.DataFrame

    def summary(self) -> dict[str, Any]:
        """The headline numbers, JSON-ready (decimals as strings, exactly)."""
        return {
            "kind": self.run.get("kind"),
            "trader_id": self.run.get("trader_id"),
            "notes": self.run.get("notes", {}),
            "orders": len(self.orders),
            "fills": len(self.fills),
            "positions": len(self.positions),
            "realized_pnl": str(sum(self.pnl_by_strategy.values(), Decimal(0))),
            "fees": str(self.fees_total),
            "funding_pnl": str(self.funding_total),
            "max_drawdown": str(self.max_drawdown),
            "max_drawdown_pct": self.max_drawdown_pct,
            "pnl_by_strategy": {k: str(v) for k, v in self.pnl_by_strategy.items()},
            "pnl_by_regime": {k: str(v) for k, v in self.pnl_by_regime.items()},
            "regime_changes": len(self.regime_timeline),
            "state_transitions": len(self.state_transitions),
            "statistics": self.stats,
        }


def load_run(run_dir: str | Path) -> RunReport:
    """Read a run directory and compute the reports; ``ValueError`` naming what is missing."""
    root = Path(run_dir)
    if not (root / "run.json").is_file():
        raise ValueError(f"{root}: not a run directory (no run.json; the run did not finish?)")
    run = json.loads((root / "run.json").read_text())
    orders = _read_csv(root / "orders.csv")
    fills = _read_csv(root / "fills.csv")
    positions = _read_csv(root / "positions.csv")
    account = _read_csv(root / "account.csv")
    stats = json.loads((root / "stats.json").read_text())
    returns_frame = _read_csv(root / "returns.csv")
    returns = (
        pd.Series(
            returns_frame["returns"].to_numpy(dtype=float),
            index=pd.to_datetime(returns_frame.index, utc=True),
        )
        if "returns" in returns_frame.columns
        else pd.Series(dtype=float)
    )
    regime = _read_jsonl(root / "regime.jsonl")
    states = _read_jsonl(root / "states.jsonl")
    funding = _read_jsonl(root / "funding.jsonl")
    prices = pd.read_csv(root / "prices.csv") if (root / "prices.csv").is_file() else pd.DataFrame()
    starting = [_money(m) for m in run.get("starting_balances", [])[:1]]
    drawdown, drawdown_pct = max_drawdown(
        pd.concat([pd.Series(starting), _balance_series(account)])
    )
    pnl_by_strategy: dict[str, Decimal] = {}
    pnl_by_regime: dict[str, Decimal] = {}
    end_ns = int(run.get("last_ns", 0))
    for _, row in positions.iterrows():
        pnl = _money(row.get("realized_pnl"))
        strategy = str(row.get("strategy_id"))
        pnl_by_strategy[strategy] = pnl_by_strategy.get(strategy, Decimal(0)) + pnl
        closed = _ts_ns(row.get("ts_closed")) or end_ns
        regime_name = _regime_at(regime, str(row.get("instrument_id")), closed)
        pnl_by_regime[regime_name] = pnl_by_regime.get(regime_name, Decimal(0)) + pnl
    fees = sum((_money(v) for v in fills.get("commission", [])), Decimal(0))
    return RunReport(
        run=run,
        orders=orders,
        fills=fills,
        positions=positions,
        account=account,
        stats=stats,
        returns=returns,
        max_drawdown=drawdown,
        max_drawdown_pct=drawdown_pct,
        funding_total=sum((Decimal(p["amount"]) for p in funding), Decimal(0)),
        fees_total=fees,
        pnl_by_strategy=dict(sorted(pnl_by_strategy.items())),
        pnl_by_regime=dict(sorted(pnl_by_regime.items())),
        regime_timeline=regime,
        state_transitions=states,
        prices=prices,
    )


def build_report(run_dir: str | Path, out_dir: str | Path | None = None) -> tuple[RunReport, Path]:
    """``load_run`` then ``write_report`` (into ``out_dir``, default ``<run_dir>/report``)."""
    report = load_run(run_dir)
    out = Path(out_dir) if out_dir is not None else Path(run_dir) / "report"
    return report, write_report(report, out)


def write_report(report: RunReport, out_dir: str | Path) -> Path:
    """Write ``summary.json``, ``summary.txt`` and ``tearsheet.html``; return the tearsheet path."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    summary = report.summary()
    (out / "summary.json").write_text(json.dumps(summary, indent=1, sort_keys=True))
    (out / "summary.txt").write_text(_summary_text(report))
    tearsheet = out / "tearsheet.html"
    tearsheet.write_text(tearsheet_html(report))
    return tearsheet


def run_digest(report: RunReport) -> dict[str, str]:
    """SHA-256 of the regime changes, the strategy state transitions and the orders, in order.

    What parity compares between two runs of the same recording (a live node's run directory
    and a backtest's, or two backtest paths). Orders are compared by what a strategy decided
    -- strategy, instrument, side, type, quantity, creation time -- not by fills, which depend
    on the fill model.
    """
    regime = [
        (r["ts_ns"], r["instrument_id"], r["previous"], r["regime"]) for r in report.regime_timeline
    ]
    states = [
        (s["ts_ns"], s["strategy_id"], s["instrument_id"], s["previous"], s["state"])
        for s in report.state_transitions
    ]
    orders: list[tuple[Any, ...]] = []
    if not report.orders.empty:
        frame = report.orders.sort_values(["ts_init", "strategy_id"], kind="stable")
        orders = [
            (
                int(row["ts_init"]),
                str(row["strategy_id"]),
                str(row["instrument_id"]),
                str(row["side"]),
                str(row["type"]),
                str(row["quantity"]),
            )
            for _, row in frame.iterrows()
        ]
    return {
        "regime_changes": _sha256(regime),
        "strategy_states": _sha256(states),
        "orders": _sha256(orders),
    }


def _sha256(rows: list[tuple[Any, ...]]) -> str:
    digest = hashlib.sha256()
    for row in rows:
        digest.update(json.dumps(row).encode() + b"\n")
    return digest.hexdigest()


def max_drawdown(balance: pd.Series) -> tuple[Decimal, float]:
    """Largest fall from a running peak of a balance series: (amount, fraction of the peak)."""
    worst = Decimal(0)
    worst_pct = 0.0
    peak: Decimal | None = None
    for value in balance:
        amount = Decimal(str(value))
        if peak is None or amount > peak:
            peak = amount
        fall = peak - amount
        if fall > worst:
            worst = fall
            worst_pct = float(fall / peak) if peak > 0 else 0.0
    return worst, worst_pct


def tearsheet_html(report: RunReport) -> str:
    """NautilusTrader's tearsheet with the regime timeline and state transitions appended."""
    with warnings.catch_warnings():
        # Plotly serialises times as datetimes (microseconds); the nanoseconds it drops do not
        # show on a chart, and the warning would only clutter the trader's terminal.
        warnings.filterwarnings("ignore", message="Discarding nonzero nanoseconds")
        base = _nautilus_tearsheet(report)
        extra = _regime_section(report)
    marker = "</body>"
    if marker in base:
        return base.replace(marker, extra + marker, 1)
    return base + extra


def _nautilus_tearsheet(report: RunReport) -> str:
    from nautilus_trader.analysis import create_tearsheet_from_stats

    stats = report.stats
    title = f"Jarvis {report.run.get('kind', 'run')} {report.run.get('trader_id', '')}"
    base = create_tearsheet_from_stats(
        stats_pnls=stats.get("pnls", {}),
        stats_returns=stats.get("returns", {}),
        stats_general=stats.get("general", {}),
        returns=report.returns,
        output_path=None,
        title=title,
        run_info={k: str(v) for k, v in report.summary().items() if not isinstance(v, dict)},
    )
    assert base is not None
    return str(base)


def _regime_section(report: RunReport) -> str:
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    instruments = sorted(set(report.prices.get("instrument_id", pd.Series(dtype=str))))
    instruments = instruments or sorted({r["instrument_id"] for r in report.regime_timeline})
    rows = max(1, len(instruments))
    fig = make_subplots(rows=rows, cols=1, shared_xaxes=False, subplot_titles=instruments or [""])
    end_ns = int(report.run.get("last_ns", 0))
    for row, instrument in enumerate(instruments, start=1):
        prices = report.prices[report.prices["instrument_id"] == instrument]
        times = pd.to_datetime(prices["ts_ns"], unit="ns", utc=True)
        fig.add_trace(
            go.Scatter(x=times, y=prices["price"], mode="lines", name=f"{instrument} price"),
            row=row,
            col=1,
        )
        changes = [r for r in report.regime_timeline if r["instrument_id"] == instrument]
        for index, change in enumerate(changes):
            until = changes[index + 1]["ts_ns"] if index + 1 < len(changes) else end_ns
            fig.add_vrect(
                x0=pd.Timestamp(change["ts_ns"], unit="ns", tz="UTC"),
                x1=pd.Timestamp(max(until, change["ts_ns"]), unit="ns", tz="UTC"),
                fillcolor=_REGIME_COLOURS.get(change["regime"], "rgba(0,0,0,0.08)"),
                line_width=0,
                annotation_text=change["regime"],
                annotation_position="top left",
                row=row,
                col=1,
            )
        states = [s for s in report.state_transitions if s["instrument_id"] == instrument]
        if states and not prices.empty:
            state_times = [s["ts_ns"] for s in states]
            fig.add_trace(
                go.Scatter(
                    x=pd.to_datetime(state_times, unit="ns", utc=True),
                    y=[_price_at(prices, ts) for ts in state_times],
                    mode="markers+text",
                    text=[f"{s['strategy_id']}: {s['previous']} to {s['state']}" for s in states],
                    textposition="top center",
                    name=f"{instrument} strategy states",
                ),
                row=row,
                col=1,
            )
    fig.update_layout(
        height=320 * rows,
        title="Regime timeline and strategy state transitions over the price",
    )
    table = "".join(
        f"<tr><td>{pd.Timestamp(r['ts_ns'], unit='ns', tz='UTC').isoformat()}</td>"
        f"<td>{r['instrument_id']}</td><td>{r['previous']}</td><td>{r['regime']}</td>"
        f"<td>{r['reason']}</td></tr>"
        for r in report.regime_timeline
    )
    return (
        f'<section id="{REGIME_SECTION_ID}"><h2>Regime timeline</h2>'
        f"{fig.to_html(full_html=False, include_plotlyjs=False)}"
        "<table><tr><th>time</th><th>instrument</th><th>from</th><th>to</th><th>reason</th></tr>"
        f"{table}</table></section>"
    )


def _price_at(prices: pd.DataFrame, ts_ns: int) -> float | None:
    before = prices[prices["ts_ns"] <= ts_ns]
    chosen = before if not before.empty else prices
    return float(chosen["price"].iloc[-1 if not before.empty else 0])


def _summary_text(report: RunReport) -> str:
    summary = report.summary()
    lines = [
        f"{summary['kind']} run, trader {summary['trader_id']}",
        *(f"  {k}: {v}" for k, v in summary["notes"].items()),
        f"orders {summary['orders']}, fills {summary['fills']}, positions {summary['positions']}",
        f"realized PnL {summary['realized_pnl']} (fees {summary['fees']}, "
        f"funding {summary['funding_pnl']})",
        f"max drawdown {summary['max_drawdown']} ({summary['max_drawdown_pct']:.4%})",
        "PnL by strategy:",
        *(f"  {k}: {v}" for k, v in summary["pnl_by_strategy"].items()),
        "PnL by regime:",
        *(f"  {k}: {v}" for k, v in summary["pnl_by_regime"].items()),
        "regime timeline:",
        *(
            f"  {pd.Timestamp(r['ts_ns'], unit='ns', tz='UTC').isoformat()} "
            f"{r['instrument_id']} {r['previous']} -> {r['regime']} ({r['reason']})"
            for r in report.regime_timeline
        ),
    ]
    return "\n".join(lines) + "\n"


def _regime_at(timeline: list[dict[str, Any]], instrument_id: str, ts_ns: int) -> str:
    regime = UNCLASSIFIED
    for change in timeline:
        if change["instrument_id"] == instrument_id and change["ts_ns"] <= ts_ns:
            regime = change["regime"]
    return regime


def _balance_series(account: pd.DataFrame) -> pd.Series:
    if account.empty or "total" not in account.columns:
        return pd.Series(dtype=float)
    return account["total"].map(_money)


def _money(value: Any) -> Decimal:
    """A report cell (``"12.5 USDC"``, ``12.5``, NaN) as a Decimal (NaN and empty: 0)."""
    if value is None:
        return Decimal(0)
    text = str(value).strip().split(" ")[0]
    if not text or text.lower() == "nan":
        return Decimal(0)
    try:
        return Decimal(text)
    except InvalidOperation:
        raise ValueError(f"not an amount: {value!r}") from None


def _ts_ns(value: Any) -> int | None:
    if value is None or (isinstance(value, float) and pd.isna(value)) or str(value) in ("", "nan"):
        return None
    return int(pd.Timestamp(value).value)


def _read_csv(path: Path) -> pd.DataFrame:
    if not path.is_file() or path.stat().st_size <= 3:
        return pd.DataFrame()
    return pd.read_csv(path, index_col=0)


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
