"""SqlStore.open(..., engine_options=...): a host's pool and driver settings, the store's own kept."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from _stores import BACKENDS, PG_URL, bologna, drop_schema, store_target, toggle
from mentorflow.exceptions import InvalidInput
from mentorflow.outbox import Relay
from mentorflow.sqlstore import SqlStore


@pytest.mark.parametrize("backend", BACKENDS)
def test_pool_options_size_the_pool_and_saves_still_work(backend: str, tmp_path: Path) -> None:
    target, schema = store_target(backend, tmp_path)
    store = SqlStore.open(
        target,
        schema=schema,
        engine_options={"pool_size": 2, "max_overflow": 0, "pool_timeout": 0.2},
    )
    try:
        held = [store.engine.connect(), store.engine.connect()]
        # A pool of two with no overflow: a third request waits out pool_timeout and gives up.
        with pytest.raises(sa.exc.TimeoutError):
            store.engine.connect()
        for conn in held:
            conn.close()
        engagement = bologna(store, "pooled")
        for _ in range(3):
            toggle(engagement)
        assert store.load("pooled") == engagement.state
    finally:
        store.close()
        drop_schema(schema)


def test_sqlite_keeps_its_write_ahead_log_and_busy_timeout_with_host_options(
    tmp_path: Path,
) -> None:
    store = SqlStore.open(
        tmp_path / "store.sqlite3",
        busy_timeout=2.5,
        engine_options={"pool_size": 1, "connect_args": {"cached_statements": 64}},
    )
    try:
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 2500
    finally:
        store.close()


def _prepared_on_server(store: SqlStore) -> int:
    # A pool of one: this is the connection every save ran on.
    with store.engine.connect() as conn:
        return int(conn.exec_driver_sql("SELECT count(*) FROM pg_prepared_statements").scalar_one())


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("connect_args", "prepares"),
    [({}, True), ({"prepare_threshold": None}, False)],
    ids=["psycopg-default", "pgbouncer-transaction-pooling"],
)
def test_prepare_threshold_none_prepares_nothing_on_the_server(
    tmp_path: Path, connect_args: dict[str, Any], prepares: bool
) -> None:
    # Behind PgBouncer's transaction pooling (before 1.21) a statement prepared on one server
    # connection is missing on the next: the store must then run without any.
    target, schema = store_target("postgresql", tmp_path)
    store = SqlStore.open(
        target,
        schema=schema,
        engine_options={"pool_size": 1, "max_overflow": 0, "connect_args": connect_args},
    )
    try:
        engagement = bologna(store, "bouncer")
        for _ in range(12):
            toggle(engagement)  # psycopg prepares a statement on its fifth run by default
        # Counted before any read: psycopg forgets its statements when a transaction rolls back.
        assert (_prepared_on_server(store) > 0) is prepares
        assert store.load("bouncer").version == engagement.version
    finally:
        store.close()
        drop_schema(schema)


REFUSED = [
    ("sqlite", "pool", "$.engine_options"),
    ("sqlite", {1: 2}, "$.engine_options"),
    ("sqlite", {"isolation_level": "AUTOCOMMIT"}, "$.engine_options.isolation_level"),
    ("sqlite", {"execution_options": {}}, "$.engine_options.execution_options"),
    ("sqlite", {"connect_args": 3}, "$.engine_options.connect_args"),
    ("sqlite", {"connect_args": {"timeout": 1}}, "$.engine_options.connect_args.timeout"),
    ("sqlite", {"connect_args": {"nope": 1}}, "$.engine_options.connect_args"),
    ("sqlite", {"no_such_option": 1}, "$.engine_options.no_such_option"),
    ("sqlite", {"max_overflow": None}, "$.engine_options.max_overflow"),
    ("postgresql", {"pool_size": "two"}, "$.engine_options.pool_size"),
    ("postgresql", {"pool_size": True}, "$.engine_options.pool_size"),
    ("postgresql", {"pool_recycle": "1h"}, "$.engine_options.pool_recycle"),
    ("postgresql", {"poolclass": 3}, "$.engine_options.poolclass"),
    # Each is fine alone; create_engine refuses the pair (a NullPool has no size).
    ("postgresql", {"poolclass": sa.pool.NullPool, "pool_size": 2}, "$.engine_options"),
]


@pytest.mark.parametrize(("backend", "options", "path"), REFUSED)
def test_refused_options_name_the_option_and_open_nothing(
    backend: str, options: Any, path: str, tmp_path: Path
) -> None:
    file = tmp_path / "store.sqlite3"
    # Refused before any connection, so no server is needed for the PostgreSQL cases.
    target = str(file) if backend == "sqlite" else PG_URL
    with pytest.raises(InvalidInput) as refused:
        SqlStore.open(target, engine_options=options)
    assert [p.path for p in refused.value.problems] == [path]
    assert not file.exists()


@pytest.mark.postgres
def test_a_driver_argument_psycopg_does_not_know_is_refused_by_name(tmp_path: Path) -> None:
    target, schema = store_target("postgresql", tmp_path)
    with pytest.raises(InvalidInput) as refused:
        SqlStore.open(target, schema=schema, engine_options={"connect_args": {"nope": 1}})
    (problem,) = refused.value.problems
    assert problem.path == "$.engine_options.connect_args"
    assert '"nope"' in problem.message


@pytest.mark.parametrize("busy_timeout", [-1, float("nan"), "30", True])
def test_busy_timeout_must_be_seconds(busy_timeout: Any, tmp_path: Path) -> None:
    with pytest.raises(InvalidInput) as refused:
        SqlStore.open(tmp_path / "store.sqlite3", busy_timeout=busy_timeout)
    assert [p.path for p in refused.value.problems] == ["$.busy_timeout"]


_OPTION_NAMES = st.sampled_from(
    [
        "pool_size",
        "max_overflow",
        "pool_timeout",
        "pool_recycle",
        "pool_use_lifo",
        "poolclass",
        "hide_parameters",
        "logging_name",
    ]
) | st.text(min_size=1, max_size=12)
_OPTION_VALUES = (
    st.none()
    | st.booleans()
    | st.integers(-3, 50)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=5)
    | st.sampled_from([sa.pool.NullPool, sa.pool.QueuePool, sa.pool.StaticPool, dict])
)
_DRIVER_ARGUMENTS = st.dictionaries(
    st.sampled_from(["cached_statements", "check_same_thread", "uri", "detect_types"])
    | st.text(min_size=1, max_size=8),
    _OPTION_VALUES,
    max_size=2,
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    options=st.dictionaries(_OPTION_NAMES, _OPTION_VALUES, max_size=3),
    driver=st.none() | _DRIVER_ARGUMENTS,
)
def test_any_options_open_a_working_store_or_are_refused_by_name(
    tmp_path_factory: pytest.TempPathFactory,
    options: dict[str, Any],
    driver: dict[str, Any] | None,
) -> None:
    if driver is not None:
        options = {**options, "connect_args": driver}
    file = tmp_path_factory.mktemp("options") / "store.sqlite3"
    try:
        store = SqlStore.open(file, engine_options=options)
    except InvalidInput as error:
        refused: InvalidInput | None = error
    else:
        refused = None
    if refused is not None:
        assert all(p.path.startswith("$.engine_options") for p in refused.problems)
        event("refused")
        return
    event("opened")
    try:
        engagement = bologna(store, "opened")
        for _ in range(2):
            toggle(engagement)
        assert store.load("opened") == engagement.state
    finally:
        store.close()


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("options", "refused"),
    [
        ({"pool_size": 1, "max_overflow": 0}, True),
        ({"poolclass": sa.pool.StaticPool}, True),
        ({"pool_size": 1, "max_overflow": 1}, False),
        ({"poolclass": sa.pool.NullPool}, False),
    ],
    ids=["one-connection", "static-pool", "one-plus-overflow", "null-pool"],
)
def test_a_postgresql_relay_needs_a_pool_of_two(
    tmp_path: Path, options: dict[str, Any], refused: bool
) -> None:
    """The relay counts an attempt on a second connection while the claim holds the first: on
    a pool that cannot give two it is refused at once, not stuck until the pool times out."""
    target, schema = store_target("postgresql", tmp_path)
    store = SqlStore.open(target, schema=schema, engine_options=options)
    try:
        bologna(store, "relayed")
        delivered: list[str] = []
        if refused:
            with pytest.raises(InvalidInput) as refusal:
                Relay(store, lambda e: delivered.append(e.id))
            assert [p.path for p in refusal.value.problems] == ["$.store"]
            return
        Relay(store, lambda e: delivered.append(e.id)).run_once()
        assert delivered == [e.event_id for e in store.outbox()]
    finally:
        store.close()
        drop_schema(schema)


def test_a_sqlite_relay_takes_a_pool_of_one(tmp_path: Path) -> None:
    store = SqlStore.open(
        tmp_path / "store.sqlite3", engine_options={"pool_size": 1, "max_overflow": 0}
    )
    try:
        bologna(store, "relayed")
        delivered: list[str] = []
        Relay(store, lambda e: delivered.append(e.id)).run_once()
        assert delivered == [e.event_id for e in store.outbox()]
    finally:
        store.close()
