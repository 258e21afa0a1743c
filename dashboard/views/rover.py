"""Rover: a site map in metres with the traverse, its uncertainty, drill sites, Sun and Earth.

The local site frame has the lander at the origin, x towards east and y towards north (metres),
azimuths clockwise from north. The traverse is the bucketed history of the navigation estimate
(``rover.mobility.est_position_x/y``) with its 1σ (``rover.navigation.est_sigma_x/y``) drawn as
ellipses along the path; drill sites are where ``rover.drill.depth`` went below the surface.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import altair as alt
import pandas as pd  # type: ignore[import-untyped]  # no pandas-stubs in the dev set
import streamlit as st

from dashboard.client import Json
from dashboard.components import (
    ICONS,
    ChartSpec,
    PageContext,
    as_float,
    current_values,
    eng,
    fetch,
    fmt_time,
    fmt_value,
    history_frame,
)

X: Final = "rover.mobility.est_position_x"
Y: Final = "rover.mobility.est_position_y"
SX: Final = "rover.navigation.est_sigma_x"
SY: Final = "rover.navigation.est_sigma_y"
HEADING: Final = "rover.mobility.est_heading"
DEPTH: Final = "rover.drill.depth"
EARTH_AZ: Final = "rover.comms.earth_azimuth"
EARTH_EL: Final = "rover.comms.earth_elevation"
SUN_AZ_NAMES: Final = ("rover.power.sun_azimuth", "rover.navigation.sun_azimuth")
SUN_EL_NAMES: Final = ("rover.power.sun_elevation", "rover.navigation.sun_elevation")
ODOMETRY: Final = "rover.mobility.odometry"
LIVE_NAMES: Final = (X, Y, SX, SY, HEADING, EARTH_AZ, EARTH_EL, DEPTH, ODOMETRY)

WINDOWS: Final[dict[str, float]] = {
    "6 h": 6 * 3600.0,
    "24 h": 86400.0,
    "7 d": 7 * 86400.0,
    "30 d": 30 * 86400.0,
    "100 d": 100 * 86400.0,
}
BUCKETS: Final = 400
ELLIPSES: Final = 24
ELLIPSE_VERTICES: Final = 36
DRILL_MIN_DEPTH_M: Final = 0.02
DRILL_SITE_RADIUS_M: Final = 3.0
MAP_SIZE_PX: Final = 560
MAP_REFRESH_S: Final = 10.0
"""The map asks for five histories: redrawn less often than the other live parts."""
PASSES_HOURS: Final = 1.0
"""The geometry asked of /passes here: the Earth and Sun now (a short, cheap prediction)."""


@dataclass(frozen=True, slots=True)
class DrillSite:
    x: float
    y: float
    max_depth_m: float
    time: float


def traverse_frame(histories: Mapping[str, Json]) -> pd.DataFrame:
    """Bucket means of x, y and their σ joined on the bucket start; rows without x or y dropped."""
    columns = {X: "x", Y: "y", SX: "sx", SY: "sy", DEPTH: "depth"}
    merged: pd.DataFrame | None = None
    for name, column in columns.items():
        frame = history_frame(histories.get(name, {}))
        if frame.empty:
            continue
        part = pd.DataFrame(
            {
                "start": frame["start"].astype("float64"),
                column: frame["mean"].astype("float64"),
            }
        )
        if column == "depth":
            part[column] = frame["max"].astype("float64")
        merged = part if merged is None else merged.merge(part, on="start", how="outer")
    if merged is None or "x" not in merged or "y" not in merged:
        return pd.DataFrame(columns=["start", "x", "y", "sx", "sy", "depth"])
    for column in ("sx", "sy", "depth"):
        if column not in merged:
            merged[column] = float("nan")
    return merged.sort_values("start").dropna(subset=["x", "y"]).reset_index(drop=True)


def drill_sites(path: pd.DataFrame) -> list[DrillSite]:
    """Places where the drill went below the surface, merged within ``DRILL_SITE_RADIUS_M``."""
    sites: list[DrillSite] = []
    if path.empty:
        return sites
    drilled = path[path["depth"].fillna(0.0) > DRILL_MIN_DEPTH_M]
    for row in drilled.itertuples(index=False):
        x, y, depth, t = float(row.x), float(row.y), float(row.depth), float(row.start)
        for i, site in enumerate(sites):
            if math.hypot(site.x - x, site.y - y) <= DRILL_SITE_RADIUS_M:
                if depth > site.max_depth_m:
                    sites[i] = DrillSite(site.x, site.y, depth, site.time)
                break
        else:
            sites.append(DrillSite(x, y, depth, t))
    return sites


def ellipse_frame(points: Sequence[tuple[float, float, float, float]]) -> pd.DataFrame:
    """Outline vertices of axis-aligned 1σ ellipses, one ``id`` per ellipse."""
    rows = []
    for index, (x, y, sx, sy) in enumerate(points):
        if not (math.isfinite(sx) and math.isfinite(sy)) or sx <= 0 or sy <= 0:
            continue
        for k in range(ELLIPSE_VERTICES + 1):
            angle = 2 * math.pi * k / ELLIPSE_VERTICES
            rows.append(
                {
                    "id": index,
                    "order": k,
                    "x": x + sx * math.cos(angle),
                    "y": y + sy * math.sin(angle),
                }
            )
    return pd.DataFrame(rows, columns=["id", "order", "x", "y"])


def direction_ray(
    x: float, y: float, azimuth_deg: float, length: float, label: str
) -> list[dict[str, Any]]:
    """Two points of a ray from (x, y) towards an azimuth (clockwise from north)."""
    az = math.radians(azimuth_deg)
    end = (x + length * math.sin(az), y + length * math.cos(az))
    return [
        {"body": label, "order": 0, "x": x, "y": y},
        {"body": label, "order": 1, "x": end[0], "y": end[1]},
    ]


def map_extent(xs: Sequence[float], ys: Sequence[float], margin: float = 10.0) -> tuple[float, ...]:
    """A square extent holding every point (and the lander at the origin), in metres."""
    all_x, all_y = [0.0, *xs], [0.0, *ys]
    cx = (min(all_x) + max(all_x)) / 2
    cy = (min(all_y) + max(all_y)) / 2
    half = max(max(all_x) - min(all_x), max(all_y) - min(all_y)) / 2 + margin
    half = max(half, 25.0)
    return cx - half, cx + half, cy - half, cy + half


def body_at(series: Any, now: float | None) -> tuple[float | None, float | None]:
    """(azimuth, elevation) of a body at ``now`` from a geometry series of the ground.

    Accepts ``{"times": [...], "azimuth_deg": [...], "elevation_deg": [...]}`` (the nearest
    sample is taken) or single values ``{"azimuth_deg": a, "elevation_deg": e}``.
    """
    if not isinstance(series, Mapping):
        return None, None
    azimuths, elevations = series.get("azimuth_deg"), series.get("elevation_deg")
    times = series.get("times")
    if isinstance(azimuths, list) and isinstance(times, list) and times and now is not None:
        index = min(range(len(times)), key=lambda i: abs(float(times[i]) - now))
        el = elevations[index] if isinstance(elevations, list) and index < len(elevations) else None
        return as_float(azimuths[index]) if index < len(azimuths) else None, as_float(el)
    return as_float(azimuths), as_float(elevations)


def sun_direction(
    ctx: PageContext, values: Mapping[str, Json], now: float | None
) -> tuple[float | None, float | None]:
    """The Sun's azimuth and elevation at the site: from telemetry, or from the ground's geometry
    (a ``sun`` series beside ``earth`` in ``/passes``), when either offers it."""
    for az_name, el_name in zip(SUN_AZ_NAMES, SUN_EL_NAMES, strict=True):
        az = as_float(eng(values, az_name))
        if az is not None:
            return az, as_float(eng(values, el_name))
    passes = fetch(lambda: ctx.client.passes(hours=PASSES_HOURS), quiet=True)
    return body_at(passes.get("sun"), now)


def azimuth(az: float | None) -> float | None:
    """An azimuth in [0, 360)."""
    return None if az is None else az % 360.0


def site_map(
    path: pd.DataFrame,
    sites: Sequence[DrillSite],
    current: tuple[float, float, float | None, float | None, float | None] | None,
    directions: Mapping[str, tuple[float | None, float | None]],
) -> ChartSpec:
    """The layered Altair map: path, 1σ ellipses, lander, drill sites, rover, Sun/Earth rays."""
    xs = [*path["x"].tolist(), *(s.x for s in sites)]
    ys = [*path["y"].tolist(), *(s.y for s in sites)]
    if current is not None:
        xs.append(current[0])
        ys.append(current[1])
    x0, x1, y0, y1 = map_extent(xs, ys)
    xscale = alt.Scale(domain=[x0, x1], nice=False, zero=False)
    yscale = alt.Scale(domain=[y0, y1], nice=False, zero=False)
    x_enc = alt.X("x:Q", title="east (m)", scale=xscale)
    y_enc = alt.Y("y:Q", title="north (m)", scale=yscale)
    layers: list[alt.Chart] = []

    if not path.empty:
        step = max(1, len(path) // ELLIPSES)
        picks = path.iloc[::step]
        ellipses = ellipse_frame(
            [
                (float(r.x), float(r.y), float(r.sx), float(r.sy))
                for r in picks.itertuples(index=False)
            ]
        )
        if not ellipses.empty:
            layers.append(
                alt.Chart(ellipses)
                .mark_line(strokeWidth=1, opacity=0.45, color="#7aa2f7")
                .encode(x=x_enc, y=y_enc, detail="id:N", order="order:Q")
            )
        trail = path.assign(time=pd.to_datetime(path["start"], unit="s", utc=True))
        layers.append(
            alt.Chart(trail)
            .mark_line(strokeWidth=3, color="#e0af68")
            .encode(
                x=x_enc,
                y=y_enc,
                order="start:Q",
                tooltip=[
                    alt.Tooltip("time:T", format="%Y-%m-%d %H:%M", title="UTC"),
                    alt.Tooltip("x:Q", format=".1f", title="east (m)"),
                    alt.Tooltip("y:Q", format=".1f", title="north (m)"),
                    alt.Tooltip("sx:Q", format=".2f", title="1σ east (m)"),
                    alt.Tooltip("sy:Q", format=".2f", title="1σ north (m)"),
                ],
            )
        )

    rays: list[dict[str, Any]] = []
    if current is not None:
        span = (x1 - x0) * 0.35
        for body, (az, el) in directions.items():
            if az is not None:
                label = f"{body} az {az % 360:.0f}°" + (f", el {el:.1f}°" if el is not None else "")
                rays += direction_ray(current[0], current[1], az, span, label)
    if rays:
        ray_frame = pd.DataFrame(rays)
        colour = alt.Color(
            "body:N",
            scale=alt.Scale(range=["#7dcfff", "#ff9e64"]),
            legend=alt.Legend(orient="bottom", title=None),
        )
        layers.append(
            alt.Chart(ray_frame)
            .mark_line(strokeDash=[6, 4], strokeWidth=2)
            .encode(x=x_enc, y=y_enc, detail="body:N", order="order:Q", color=colour)
        )
        layers.append(
            alt.Chart(ray_frame[ray_frame["order"] == 1])
            .mark_text(align="left", dx=6, dy=-6, fontSize=13)
            .encode(x=x_enc, y=y_enc, text="body:N", color=colour)
        )

    lander = pd.DataFrame([{"x": 0.0, "y": 0.0, "label": "Lander"}])
    layers.append(
        alt.Chart(lander)
        .mark_point(shape="square", size=220, filled=True, color="#bb9af7")
        .encode(x=x_enc, y=y_enc, tooltip=["label:N"])
    )
    layers.append(
        alt.Chart(lander)
        .mark_text(dx=12, dy=12, align="left", color="#bb9af7")
        .encode(x=x_enc, y=y_enc, text="label:N")
    )

    if sites:
        frame = pd.DataFrame(
            [
                {
                    "x": s.x,
                    "y": s.y,
                    "label": f"D{i + 1}",
                    "depth": f"{s.max_depth_m:.2f} m",
                    "time": fmt_time(s.time),
                }
                for i, s in enumerate(sites)
            ]
        )
        layers.append(
            alt.Chart(frame)
            .mark_point(shape="cross", size=200, filled=True, color="#f7768e")
            .encode(
                x=x_enc,
                y=y_enc,
                tooltip=[
                    alt.Tooltip("label:N", title="drill site"),
                    alt.Tooltip("depth:N", title="deepest"),
                    alt.Tooltip("time:N", title="first drilled"),
                ],
            )
        )
        layers.append(
            alt.Chart(frame)
            .mark_text(dx=8, dy=10, align="left", color="#f7768e")
            .encode(x=x_enc, y=y_enc, text="label:N")
        )

    if current is not None:
        x, y, heading, sx, sy = current
        now = pd.DataFrame(
            [{"x": x, "y": y, "heading": heading or 0.0, "label": f"Rover ({x:.1f}, {y:.1f}) m"}]
        )
        if sx and sy:
            layers.append(
                alt.Chart(ellipse_frame([(x, y, sx, sy)]))
                .mark_line(strokeWidth=2, color="#9ece6a")
                .encode(x=x_enc, y=y_enc, detail="id:N", order="order:Q")
            )
        layers.append(
            alt.Chart(now)
            .mark_point(shape="triangle-up", size=320, filled=True, color="#9ece6a")
            .encode(
                x=x_enc,
                y=y_enc,
                angle=alt.Angle("heading:Q", scale=alt.Scale(domain=[0, 360], range=[0, 360])),
                tooltip=["label:N", alt.Tooltip("heading:Q", format=".0f", title="heading (°)")],
            )
        )
    return alt.layer(*layers).properties(width=MAP_SIZE_PX, height=MAP_SIZE_PX)


def render(ctx: PageContext) -> None:
    st.title("Rover traverse", anchor=False)
    st.caption(
        "Site frame: the lander at the origin, x east, y north, in metres. The path is the "
        "rover's own navigation estimate; ellipses show its 1σ uncertainty."
    )
    window = st.segmented_control("Traverse window (mission time)", list(WINDOWS), default="24 h")
    seconds = WINDOWS.get(str(window or "24 h"), 86400.0)

    @st.fragment(run_every=max(ctx.refresh_s, MAP_REFRESH_S))
    def live_map() -> None:
        clock = fetch(ctx.client.clock)
        now = as_float(clock.get("mission_time"))
        values = current_values(ctx, LIVE_NAMES)
        histories: dict[str, Json] = {}
        if now is not None:
            for name in (X, Y, SX, SY, DEPTH):
                histories[name] = fetch(_history_call(ctx, name, now - seconds, now), quiet=True)
        path = traverse_frame(histories)
        sites = drill_sites(path)
        x, y = as_float(eng(values, X)), as_float(eng(values, Y))
        current = None
        if x is not None and y is not None:
            current = (
                x,
                y,
                as_float(eng(values, HEADING)),
                as_float(eng(values, SX)),
                as_float(eng(values, SY)),
            )
        earth = (as_float(eng(values, EARTH_AZ)), as_float(eng(values, EARTH_EL)))
        if earth[0] is None:  # no telemetry yet: the ground's own geometry
            passes = fetch(lambda: ctx.client.passes(PASSES_HOURS), quiet=True)
            earth = body_at(passes.get("earth"), now)
        sun = sun_direction(ctx, values, now)
        left, right = st.columns([5, 3])
        with left:
            st.altair_chart(
                site_map(path, sites, current, {"Earth": earth, "Sun": sun}),
                theme="streamlit",
            )
        sx, sy = as_float(eng(values, SX)), as_float(eng(values, SY))
        sigma = None if sx is None or sy is None else math.hypot(sx, sy)
        shown = [
            ("Position east", fmt_value(x, "m", digits=1), None),
            ("Position north", fmt_value(y, "m", digits=1), None),
            (
                "1σ uncertainty",
                fmt_value(sigma, "m", digits=2),
                "Root sum square of the 1σ east and north.",
            ),
            ("Heading", fmt_value(as_float(eng(values, HEADING)), "deg", digits=0), None),
            ("Odometry", fmt_value(as_float(eng(values, ODOMETRY)), "m", digits=1), None),
            ("Drill sites", str(len(sites)), "Where the drill went below the surface."),
            ("Earth az / el", _direction_text(earth), "Azimuth clockwise from north / elevation."),
            ("Sun az / el", _direction_text(sun), "Azimuth clockwise from north / elevation."),
        ]
        with right:
            for row in range(0, len(shown), 2):
                for column, (label, value, help_text) in zip(
                    st.columns(2), shown[row : row + 2], strict=False
                ):
                    column.metric(label, value, help=help_text)
            if sites:
                st.dataframe(
                    pd.DataFrame(
                        [
                            {
                                "site": f"D{i + 1}",
                                "east (m)": round(site.x, 1),
                                "north (m)": round(site.y, 1),
                                "deepest (m)": round(site.max_depth_m, 2),
                            }
                            for i, site in enumerate(sites)
                        ]
                    ),
                    hide_index=True,
                    height=160,
                )
        if path.empty:
            st.info("No navigation history in this window yet.", icon=ICONS["wait"])

    live_map()


def _history_call(ctx: PageContext, name: str, start: float, end: float) -> Any:
    return lambda: ctx.client.history(name, start, end, BUCKETS)


def _direction_text(direction: tuple[float | None, float | None]) -> str:
    """``"230° / 4.9°"`` (azimuth / elevation)."""
    az, el = direction
    if az is None:
        return "—"
    return f"{az % 360:.0f}°" + (f" / {el:.1f}°" if el is not None else "")
