"""Running the simulator: in-process (async or in a thread) and from the command line."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from aiohttp import web

from .activity import generate
from .admin import seed
from .app import PardotSimulatorApp
from .config import SimConfig
from .state import PardotState


class Simulator:
    """A Pardot + Salesforce login server on 127.0.0.1; ``async with Simulator() as sim: ...``.
    ``seed_activity=N`` generates N prospects with their activity and every other v5 object (``activity``).

    ``sim.login_url`` and ``sim.pardot_domain`` are the URLs to give a job, ``sim.state`` what
    Pardot holds, ``sim.config`` its settings (change them with ``sim.configure``).
    """

    def __init__(self, config: SimConfig | None = None, *, host: str = "127.0.0.1", port: int = 0,
                 seed_activity: int = 0, **settings: Any):  # fmt: skip
        self.config = config or SimConfig()
        self.config.update(settings)
        self.state = PardotState()
        self.state.follow(self.config)
        if seed_activity:  # prospects with their visits, activities, emails ... and the account's assets
            generate(self.state, seed_activity)
        self.host, self.port = host, port
        self._app = PardotSimulatorApp(self.config, self.state)
        self._runner: web.AppRunner | None = None

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    login_url = pardot_domain = base_url

    @property
    def credentials(self) -> dict[str, str]:
        """Job parameters that authenticate against this simulator (test values, not secrets)."""
        return {
            "client_id": self.config.client_id,
            "client_secret": self.config.client_secret,
            "refresh_token": self.config.refresh_tokens[0],
            "business_unit": self.config.business_units[0],
            "login_url": self.login_url,
            "pardot_domain": self.pardot_domain,
        }

    def configure(self, **changes: Any) -> None:
        """Change settings while running (limits, faults, account rules)."""
        self.config.update(changes)
        self.state.follow(self.config)

    def seed(self, data: dict[str, Any] | None = None, **items: Any) -> None:
        """Add lists, prospects and memberships: ``sim.seed(lists=[1, 2], prospects=[{...}])``."""
        seed(self.state, {**(data or {}), **items})

    def snapshot(self) -> dict[str, Any]:
        """The same JSON as ``GET /__sim__/state``."""
        return self._app.snapshot()

    @property
    def max_concurrency(self) -> int:
        return self._app.runtime.max_in_flight

    @property
    def max_attempted_concurrency(self) -> int:
        """Most calls the clients had in flight at once, those refused with error 66 included."""
        return self._app.runtime.max_attempted

    @property
    def held(self) -> int:
        """Calls waiting unanswered because of ``faults.hold_from_call``."""
        return self._app.runtime.held

    @property
    def pardot_calls(self) -> int:
        return self._app.runtime.pardot_calls

    async def start(self) -> Simulator:
        self._runner = web.AppRunner(self._app.app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Simulator:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def run_in_thread(self) -> SimulatorThread:
        """Serve from a background thread: ``with Simulator().run_in_thread() as sim: ...``."""
        return SimulatorThread(self)


class SimulatorThread:
    """Runs a ``Simulator`` on its own event loop in a daemon thread (for sync code and notebooks)."""

    def __init__(self, simulator: Simulator) -> None:
        self.simulator = simulator
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._serve, name="pardot-simulator", daemon=True)

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self.simulator.start())
        except BaseException as exc:  # reported to the starting thread
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        self._loop.run_forever()
        self._loop.run_until_complete(self.simulator.stop())
        self._loop.close()

    def start(self) -> Simulator:
        """Start serving (for notebooks, where a ``with`` block cannot span cells)."""
        return self.__enter__()

    def stop(self) -> None:
        """Stop serving."""
        self.__exit__(None, None, None)

    def __enter__(self) -> Simulator:
        self._thread.start()
        self._ready.wait(30)
        if self._error is not None:
            raise self._error
        return self.simulator

    def __exit__(self, *exc: object) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(30)
