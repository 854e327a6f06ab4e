"""Request numbers: CS + seven digits, sequential, unique under concurrent creation."""

from __future__ import annotations

import threading

from flask import Flask

from portal.core.extensions import db
from portal.models import ServiceRequest
from tests.conftest import GERID_VALUES


def test_numbers_are_sequential_with_seven_digits(make_user, make_request) -> None:
    user = make_user()
    numbers = [make_request(user).number for _ in range(3)]
    assert numbers == ["CS0000001", "CS0000002", "CS0000003"]


def test_a_rolled_back_creation_does_not_burn_a_number(make_user, make_request, catalog) -> None:
    from portal.requests import services as requests

    user = make_user()
    make_request(user)
    requests.create_request(
        db.session,
        actor=user,
        item=catalog["gerid"],
        requested_for=user,
        description="x",
        values=GERID_VALUES,
    )
    db.session.rollback()
    assert make_request(user).number == "CS0000002"


def test_parallel_creation_gives_unique_sequential_numbers(app: Flask, make_user, catalog) -> None:
    from portal.models import CatalogItem, User
    from portal.requests import services as requests

    user_id = make_user().id
    item_id = catalog["gerid"].id
    per_thread, threads_count = 10, 4
    barrier = threading.Barrier(threads_count)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            with app.app_context():
                barrier.wait()
                for _ in range(per_thread):
                    from portal.core.database import write_intent

                    with write_intent():
                        user = db.session.get(User, user_id)
                        item = db.session.get(CatalogItem, item_id)
                        requests.create_request(
                            db.session,
                            actor=user,
                            item=item,
                            requested_for=user,
                            description="paralelo",
                            values=GERID_VALUES,
                        )
                        db.session.commit()
                db.session.remove()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(threads_count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    db.session.rollback()  # end the test's own snapshot before reading what threads wrote
    numbers = sorted(db.session.scalars(db.select(ServiceRequest.number)))
    total = per_thread * threads_count
    assert numbers == [f"CS{i:07d}" for i in range(1, total + 1)]
