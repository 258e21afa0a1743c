"""The LUPEX dashboard: ``streamlit run dashboard/app.py`` (``lupex dashboard`` does this).

One REST client and one live feed (a single WebSocket connection with bounded buffers) exist per
Streamlit server process, created in ``st.cache_resource``; every browser session shares them.
The pages are plain functions ``render(ctx)`` registered with ``st.navigation``; their live parts
are ``st.fragment(run_every=...)`` so a refresh redraws only that part, never the whole page.

Configuration comes from ``LUPEX_DASHBOARD_*`` variables (see ``dashboard.settings``); the token
is only ever shown masked.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from dashboard.client import ApiClient, ApiError
from dashboard.components import GREEN, ICONS, RED, ROLES, PageContext, connection_panel, dot
from dashboard.live import LiveFeed
from dashboard.settings import DashboardSettings, mask_token
from dashboard.views import alarms_events, antennas, commands, overview, rover, telemetry, training

STYLE = """<style>
/* Live parts rerun every few seconds: keep them fully drawn while they do, instead of
   Streamlit's fading of "stale" elements, which makes a wall display flicker. */
.stElementContainer[data-stale="true"] { opacity: 1 !important; transition: none !important; }
</style>"""


@st.cache_resource(show_spinner=False)
def resources() -> tuple[DashboardSettings, ApiClient, LiveFeed]:
    """Settings, REST client and the started live feed: once per server process."""
    settings = DashboardSettings()
    token = settings.token_value()
    client = ApiClient(settings.api, token, timeout_s=settings.timeout_s)
    live = LiveFeed(
        settings.stream_url,
        token,
        patterns=settings.live_patterns,
        capacity=settings.live_capacity,
        max_parameters=settings.live_max_parameters,
        events_capacity=settings.events_capacity,
        commands_capacity=settings.commands_capacity,
        alarms_capacity=settings.alarms_capacity,
        reconnect_max_s=settings.reconnect_max_s,
    ).start()
    return settings, client, live


def role_of(client: ApiClient) -> tuple[str, str | None]:
    """The token's role (viewer when the ground cannot say) and, if so, why it could not."""
    try:
        me = client.whoami()
    except ApiError as exc:
        return "viewer", f"{exc.title}: {exc}"
    role = str(me.get("role", "viewer"))
    return (role if role in ROLES else "viewer"), None


def _page(render: Callable[[PageContext], None], ctx: PageContext) -> Callable[[], None]:
    def run() -> None:
        render(ctx)

    return run


def sidebar(ctx: PageContext, settings: DashboardSettings, role_problem: str | None) -> None:
    with st.sidebar:
        st.markdown("### LUPEX · Chandrayaan-5")
        st.caption("Ground-segment mock: lander (ISRO) and rover (JAXA) at the lunar south pole.")

        @st.fragment(run_every=ctx.refresh_s)
        def status() -> None:
            try:
                health = ctx.client.health()
                state = str(health.get("status", "?"))
                st.markdown(f"{dot(GREEN if state == 'ok' else RED)} Ground service **{state}**")
            except ApiError as exc:
                st.markdown(f"{dot(RED)} **{exc.title}**")
                st.caption(str(exc))
            connection_panel(ctx)

        status()
        st.caption(
            f"API `{settings.api}` · token `{mask_token(settings.token_value())}` · "
            f"role **{ctx.role}**"
        )
        if role_problem:
            st.warning(role_problem, icon=ICONS["lock"])


def main() -> None:
    st.set_page_config(
        page_title="LUPEX mission control",
        page_icon="🌗",
        layout="wide",
        initial_sidebar_state="expanded",
    )
    st.html(STYLE)
    settings, client, live = resources()
    role, role_problem = role_of(client)
    ctx = PageContext(client=client, live=live, role=role, refresh_s=settings.refresh_s)

    def page(render: Callable[[PageContext], None], title: str, key: str) -> Any:
        return st.Page(_page(render, ctx), title=title, icon=ICONS[key], url_path=key)

    pages = {
        "Operations": [
            page(overview.render, "Overview", "overview"),
            page(telemetry.render, "Telemetry", "telemetry"),
            page(rover.render, "Rover", "rover"),
            page(antennas.render, "Antennas and passes", "antennas"),
            page(commands.render, "Commands", "commands"),
            page(alarms_events.render, "Alarms and events", "alarms"),
        ],
        "Training": [page(training.render, "Training", "training")],
    }
    navigation = st.navigation(pages)
    sidebar(ctx, settings, role_problem)
    navigation.run()


main()
