"""Runs the worker: `python -m homeostat_trainer` (from python/, or `npm run worker:python`).

Reads TEMPORAL_ADDRESS (default localhost:7233) and TEMPORAL_NAMESPACE (default "default"), as the
TypeScript worker does, and serves the task queue `homeostat-python` until SIGINT or SIGTERM, when it
lets running trainings finish. Logs are JSON lines with a "msg", like the TypeScript processes'.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from concurrent.futures import ThreadPoolExecutor

from temporalio.client import Client
from temporalio.worker import Worker

from . import TASK_QUEUE
from .activities import ACTIVITIES, log
from .pipelines import available_pipelines

#: Trainings run in threads (scikit-learn and the boosters release the GIL in their fitting loops).
MAX_CONCURRENT_TRAININGS = 2


async def main() -> None:
    address = os.environ.get("TEMPORAL_ADDRESS", "localhost:7233")
    namespace = os.environ.get("TEMPORAL_NAMESPACE", "default")
    client = await Client.connect(address, namespace=namespace)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    with ThreadPoolExecutor(MAX_CONCURRENT_TRAININGS) as executor:
        worker = Worker(
            client,
            task_queue=TASK_QUEUE,
            activities=ACTIVITIES,
            activity_executor=executor,
            max_concurrent_activities=MAX_CONCURRENT_TRAININGS,
        )
        async with worker:
            log("python worker started", taskQueue=TASK_QUEUE, address=address, pipelines=available_pipelines())
            await stop.wait()
    log("python worker stopped")


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(130)
