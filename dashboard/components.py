"""Shared widgets and formatting of the dashboard's pages.

Pages receive a :class:`PageContext` (the REST client, the live feed and the caller's role) and
draw with these helpers: API errors become one clear message instead of a traceback, times are
shown in UTC, units are spelled the way people read them, and charts are Altair specifications
that follow Streamlit's (dark or light) theme.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, Literal, TypeVar

import altair as alt
import pandas as pd  # type: ignore[import-untyped]  # no pandas-stubs in the dev set
import streamlit as st

from dashboard.client import (
    ApiClient,
    ApiError,
    ForbiddenError,
    Json,
    RequestRefusedError,
    UnauthorizedError,
)
from dashboard.live import FeedStatus, LiveFeed, Series

_T = TypeVar("_T")

ChartSpec = (
    alt.Chart
    | alt.LayerChart
    | alt.FacetChart
    | alt.ConcatChart
    | alt.HConcatChart
    | alt.VConcatChart
    | alt.RepeatChart
)
"""What ``st.altair_chart`` draws."""

ROLES: Final = ("viewer", "operator", "instructor")

UNIT_LABELS: Final[dict[str, str]] = {
    "degC": "°C",
    "deg": "°",
    "deg/s": "°/s",
    "permil": "‰",
    "1": "",
    "W h": "Wh",
    "N m": "N·m",
    "W/(m K)": "W/(m·K)",
    "cm^-3": "cm⁻³",
    "bit/s": "bit/s",
}

# Colours of the dark theme (Tokyo Night-like), used for text in tables and for chart marks.
GREEN: Final = "#9ece6a"
YELLOW: Final = "#e0af68"
RED: Final = "#f7768e"
BLUE: Final = "#7aa2f7"
CYAN: Final = "#7dcfff"
ORANGE: Final = "#ff9e64"
VIOLET: Final = "#bb9af7"
GREY: Final = "#8a8fa3"

SEVERITY_COLOURS: Final[dict[str, str]] = {
    "info": BLUE,
    "low": GREEN,
    "medium": YELLOW,
    "high": RED,
}
LEVEL_COLOURS: Final[dict[str, str]] = {"yellow": YELLOW, "red": RED, "ok": GREEN}
STATE_COLOURS: Final[dict[str, str]] = {"raised": RED, "acknowledged": YELLOW, "cleared": GREEN}
MONITORING_COLOURS: Final[dict[str, str]] = {
    "in_limits": GREEN,
    "watch": YELLOW,
    "critical": RED,
    "disabled": GREY,
}
STAGE_COLOURS: Final[dict[str, str]] = {
    "queued": GREY,
    "released": BLUE,
    "sent": BLUE,
    "accepted": BLUE,
    "started": BLUE,
    "progress": BLUE,
    "completed": GREEN,
    "rejected": RED,
    "failed": RED,
    "timeout": RED,
    "cancelled": GREY,
}
_MARKDOWN_COLOURS: Final[dict[str, str]] = {
    GREEN: "green",
    YELLOW: "orange",
    RED: "red",
    BLUE: "blue",
    CYAN: "blue",
    ORANGE: "orange",
    VIOLET: "violet",
    GREY: "gray",
}

# Icons are Material Symbols, which Streamlit ships as a web font: they render on any machine,
# unlike emoji, which need a colour-emoji font that headless servers rarely have.
ICONS: Final[dict[str, str]] = {
    "overview": ":material/dashboard:",
    "telemetry": ":material/monitoring:",
    "rover": ":material/map:",
    "antennas": ":material/settings_input_antenna:",
    "commands": ":material/terminal:",
    "alarms": ":material/notifications_active:",
    "training": ":material/school:",
    "lock": ":material/lock:",
    "offline": ":material/cloud_off:",
    "wait": ":material/hourglass_empty:",
    "ok": ":material/check_circle:",
    "warning": ":material/warning:",
    "send": ":material/send:",
    "play": ":material/play_arrow:",
    "stop": ":material/stop:",
    "fault": ":material/bolt:",
    "clear": ":material/cleaning_services:",
    "hint": ":material/touch_app:",
}


def dot(colour: str, text: str = "●") -> str:
    """Coloured text for Markdown (a dot by default)."""
    return f":{_MARKDOWN_COLOURS.get(colour, 'gray')}[{text}]"


CHART_HEIGHT: Final = 260
ColumnWidth = Literal["small", "medium", "large"]


@dataclass(frozen=True, slots=True)
class PageContext:
    """What every page needs: the REST client, the live feed and the caller's role."""

    client: ApiClient
    live: LiveFeed | None
    role: str = "viewer"
    refresh_s: float = 2.0

    def may(self, role: str) -> bool:
        """Whether the dashboard's token has ``role`` or a higher one."""
        have = ROLES.index(self.role) if self.role in ROLES else 0
        return have >= ROLES.index(role)


# ------------------------------------------------------------------------------------- errors
def show_error(exc: ApiError) -> None:
    """One clear message for a failed request."""
    if isinstance(exc, UnauthorizedError | ForbiddenError):
        st.error(f"**{exc.title}** — {exc}", icon=ICONS["lock"])
    elif isinstance(exc, RequestRefusedError):
        st.warning(f"**{exc.title}** — {exc}", icon=ICONS["warning"])
    else:
        st.error(f"**{exc.title}** — {exc}", icon=ICONS["offline"])


def flash(message: str, icon: str = ICONS["ok"]) -> None:
    """A toast shown after the rerun that follows an action (see ``show_flash``)."""
    st.session_state["_lupex_flash"] = (message, icon)


def show_flash() -> None:
    """Show (once) the toast left by ``flash``."""
    message = st.session_state.pop("_lupex_flash", None)
    if isinstance(message, tuple) and len(message) == 2:
        st.toast(str(message[0]), icon=str(message[1]))


def guarded(call: Callable[[], _T], default: _T, *, quiet: bool = False) -> _T:
    """``call()``, or ``default`` after showing the error (unless ``quiet``)."""
    try:
        return call()
    except ApiError as exc:
        if not quiet:
            show_error(exc)
        return default


def fetch(call: Callable[[], Json], *, quiet: bool = False) -> Json:
    """A JSON object from the API, or ``{}`` after showing the error (unless ``quiet``)."""
    return guarded(call, {}, quiet=quiet)


def fetch_list(call: Callable[[], list[Json]], *, quiet: bool = False) -> list[Json]:
    """A list from the API, or ``[]`` after showing the error (unless ``quiet``)."""
    empty: list[Json] = []
    return guarded(call, empty, quiet=quiet)


# ---------------------------------------------------------------------------------- formatting
def unit_label(units: str | None) -> str:
    if not units:
        return ""
    return UNIT_LABELS.get(units, units)


def fmt_time(t: float | None, *, seconds: bool = True) -> str:
    """Unix seconds as ``YYYY-MM-DD HH:MM:SS UTC`` (``—`` when unknown)."""
    if t is None or not math.isfinite(t):
        return "—"
    pattern = "%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M"
    return datetime.fromtimestamp(t, UTC).strftime(pattern) + " UTC"


def fmt_clock(t: float | None) -> str:
    if t is None or not math.isfinite(t):
        return "—"
    return datetime.fromtimestamp(t, UTC).strftime("%H:%M:%S")


def fmt_duration(seconds: float | None) -> str:
    """A duration as ``1 d 02:03:04``, ``02:03:04`` or ``12.3 s``."""
    if seconds is None or not math.isfinite(seconds):
        return "—"
    sign = "-" if seconds < 0 else ""
    s = abs(seconds)
    if s < 60:
        return f"{sign}{s:.1f} s"
    days, rest = divmod(round(s), 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    text = f"{hours:02d}:{minutes:02d}:{secs:02d}"
    return f"{sign}{days} d {text}" if days else sign + text


def fmt_value(value: Any, units: str | None = "", digits: int = 2) -> str:
    """A value with its units: numbers rounded, booleans as ON/OFF, labels as they are."""
    label = unit_label(units)
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "ON" if value else "OFF"
    if isinstance(value, float):
        if not math.isfinite(value):
            return "—"
        text = f"{value:,.{digits}f}"
    else:
        text = str(value)
    return f"{text} {label}".strip()


def as_float(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return float(value) if math.isfinite(float(value)) else None
    return None


def to_datetime(times: Sequence[float] | Any) -> pd.DatetimeIndex:
    return pd.to_datetime(pd.Series(times, dtype="float64"), unit="s", utc=True)


# -------------------------------------------------------------------------------- live values
def current_values(
    ctx: PageContext, names: Sequence[str], *, rest_fallback: bool = True
) -> dict[str, Json]:
    """Latest values: from the live feed, and from the REST API for those it has not seen."""
    found = ctx.live.latest(names) if ctx.live is not None else {}
    missing = [n for n in names if n not in found]
    if missing and rest_fallback:
        rest: dict[str, Json] = guarded(lambda: ctx.client.latest(missing), {}, quiet=True)
        found.update(rest)
    return found


def eng(values: Mapping[str, Json], name: str) -> Any:
    value = values.get(name)
    return None if value is None else value.get("eng_value")


def delta_from_buffer(ctx: PageContext, name: str, lookback_s: float) -> float | None:
    """Change of a parameter over ``lookback_s`` of mission time, from the live ring buffer."""
    if ctx.live is None:
        return None
    series = ctx.live.series([name]).get(name)
    if series is None or len(series.times) < 2:
        return None
    t_end = float(series.times[-1])
    older = series.values[series.times <= t_end - lookback_s]
    base = float(older[-1]) if len(older) else float(series.values[0])
    return float(series.values[-1]) - base


def carriers(carrier: Mapping[str, Any]) -> dict[str, str | None]:
    """Vehicle → the station carrying its link now, from ``/links/carrier``."""
    out: dict[str, str | None] = {}
    vehicles = carrier.get("vehicles")
    if isinstance(vehicles, list):
        for entry in vehicles:
            if isinstance(entry, Mapping) and entry.get("vehicle"):
                station = entry.get("station")
                out[str(entry["vehicle"])] = str(station) if station else None
    return out


# ------------------------------------------------------------------------------ connection
def feed_status_text(status: FeedStatus) -> tuple[str, str]:
    """(colour, text) of the live connection for the status line."""
    age = status.last_message_age_s
    age_text = "no message yet" if age is None else f"last message {age:.1f} s ago"
    if status.connected and age is not None and age < 10:
        return GREEN, f"Live stream connected · {age_text}"
    if status.connected:
        return YELLOW, f"Live stream connected, quiet · {age_text}"
    reason = f" · {status.error}" if status.error else ""
    return RED, f"Live stream disconnected{reason} · {age_text}"


def connection_panel(ctx: PageContext) -> None:
    """The dashboard's own connection: WebSocket state, message age, counts."""
    if ctx.live is None:
        st.caption(f"{dot(GREY)} Live stream off")
        return
    status = ctx.live.status()
    colour, text = feed_status_text(status)
    st.markdown(f"{dot(colour)} {text}")
    st.caption(
        f"{status.messages:,} messages · {status.values:,} values · "
        f"{status.buffers} live parameters · {status.connects} connection(s) · "
        f"{status.server_dropped:,} dropped by the ground"
    )


# ---------------------------------------------------------------------------------- charts
def _utc_axis(title: str = "mission time (UTC)") -> alt.X:
    return alt.X(
        "time:T",
        title=title,
        scale=alt.Scale(type="utc"),
        axis=alt.Axis(format="%H:%M:%S", labelOverlap=True),
    )


def live_chart(
    series: Mapping[str, Series], units: Mapping[str, str], *, height: int = CHART_HEIGHT
) -> ChartSpec | None:
    """Line chart of live ring buffers, one colour per parameter (None when nothing to draw)."""
    frames = []
    for name, s in series.items():
        if len(s.times) == 0:
            continue
        label = f"{name} [{unit_label(units.get(name))}]" if units.get(name) else name
        frames.append(
            pd.DataFrame({"time": to_datetime(s.times), "value": s.values, "parameter": label})
        )
    if not frames:
        return None
    data = pd.concat(frames, ignore_index=True)
    unit_set = {unit_label(units.get(n)) for n in series}
    y_title = "value" + (f" [{next(iter(unit_set))}]" if len(unit_set) == 1 and unit_set else "")
    spec: alt.Chart = (
        alt.Chart(data)
        .mark_line(interpolate="step-after", strokeWidth=2)
        .encode(
            x=_utc_axis(),
            y=alt.Y("value:Q", title=y_title, scale=alt.Scale(zero=False)),
            color=alt.Color(
                "parameter:N",
                legend=alt.Legend(orient="top", title=None, labelLimit=600),
            ),
            tooltip=[
                alt.Tooltip("parameter:N"),
                alt.Tooltip("time:T", format="%Y-%m-%d %H:%M:%S", title="UTC"),
                alt.Tooltip("value:Q", format=",.3f"),
            ],
        )
        .properties(height=height)
    )
    return spec


def history_frame(history: Json) -> pd.DataFrame:
    """The buckets of a history response as a data frame (time = bucket middle)."""
    buckets = [b for b in history.get("buckets", []) if isinstance(b, dict)]
    if not buckets:
        return pd.DataFrame(columns=["time", "min", "max", "mean", "count"])
    frame = pd.DataFrame(buckets)
    middle = (frame["start"].astype("float64") + frame["end"].astype("float64")) / 2.0
    frame["time"] = to_datetime(middle)
    return frame


def history_chart(history: Json, units: str = "") -> ChartSpec | None:
    """Min–max band and mean line of a bucketed history (None when empty)."""
    frame = history_frame(history)
    if frame.empty:
        return None
    label = unit_label(units or str(history.get("units") or ""))
    y_title = f"{history.get('name', 'value')}" + (f" [{label}]" if label else "")
    base = alt.Chart(frame).encode(x=_utc_axis())
    band = base.mark_area(opacity=0.3).encode(
        y=alt.Y("min:Q", title=y_title, scale=alt.Scale(zero=False)),
        y2="max:Q",
        tooltip=[
            alt.Tooltip("time:T", format="%Y-%m-%d %H:%M:%S", title="UTC"),
            alt.Tooltip("min:Q", format=",.3f"),
            alt.Tooltip("mean:Q", format=",.3f"),
            alt.Tooltip("max:Q", format=",.3f"),
            alt.Tooltip("count:Q"),
        ],
    )
    line = base.mark_line(strokeWidth=2).encode(y="mean:Q")
    return alt.layer(band, line).properties(height=CHART_HEIGHT)


def chart(spec: ChartSpec | None, empty: str) -> None:
    """Draw an Altair chart with Streamlit's theme, or say why there is nothing."""
    if spec is None:
        st.info(empty, icon=ICONS["wait"])
        return
    st.altair_chart(spec, width="stretch", theme="streamlit")


def table(
    rows: Sequence[Mapping[str, Any]],
    *,
    empty: str,
    key: str | None = None,
    colours: Mapping[str, Mapping[str, str]] | None = None,
    widths: Mapping[str, ColumnWidth] | None = None,
) -> None:
    """A read-only table of rows (or a short note when there are none).

    ``colours`` maps a column to {cell text: CSS colour}: those cells are drawn in that colour.
    ``widths`` maps a column to "small", "medium" or "large" (otherwise it fits the content).
    """
    if not rows:
        st.caption(empty)
        return
    frame = pd.DataFrame(list(rows))
    data: Any = frame
    if colours:
        styler = frame.style
        for column, palette in colours.items():
            if column in frame.columns:
                styler = styler.map(_colour_of(palette), subset=[column])
        data = styler
    config: dict[str, Any] = {
        column: st.column_config.Column(width=width)
        for column, width in (widths or {}).items()
        if column in frame.columns
    }
    st.dataframe(data, hide_index=True, width="stretch", key=key, column_config=config or None)


def _colour_of(palette: Mapping[str, str]) -> Callable[[Any], str]:
    def css(value: Any) -> str:
        colour = palette.get(str(value))
        return f"color: {colour}; font-weight: 600" if colour else ""

    return css
