"""The API's Redis client: a burst past the pool waits for a free connection instead of failing."""

from __future__ import annotations

import threading

from shared.redis_conn import connect


def test_a_command_past_the_pool_waits_for_a_connection_to_come_back(redis_url: str) -> None:
    client = connect(redis_url, max_connections=1)
    pool = client.connection_pool
    held = pool.get_connection()
    answers: list[object] = []
    asking = threading.Thread(target=lambda: answers.append(client.ping()))
    asking.start()
    asking.join(timeout=0.5)
    assert asking.is_alive()  # the only connection is out: it waits, it does not fail
    assert not answers
    pool.release(held)
    asking.join(timeout=30)
    assert answers == [True]
    pool.disconnect()
