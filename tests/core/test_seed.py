"""Seed generators: one Faker per thread, reseeded per tenant, weighted draws from weights summed once."""
from __future__ import annotations

import threading

from faker import Faker

from mocks.core.seed import derive, seeded

#: every Faker method the seeds call, and a few more that draw weighted elements
METHODS = ("first_name", "last_name", "name", "street_address", "city", "postcode", "zipcode", "state",
           "state_abbr", "company", "email", "company_email", "free_email_domain", "color_name", "word",
           "sentence", "phone_number", "job", "country", "user_name", "address", "prefix", "suffix")


def draws(fake: Faker) -> list:
    out = []
    for _ in range(40):
        out += [getattr(fake, m)() for m in METHODS]
        out += [fake.words(nb=5), fake.numerify("0#########"), fake.unique.first_name()]
    return out


def test_the_seed_faker_draws_what_a_new_plain_faker_draws():
    """The sandbox's Faker (reused, reseeded, weights summed once) against Faker as shipped: if a
    Faker release draws differently, this fails and mocks.core.seed must follow it."""
    for scope in (("click2sync", "t1"), ("stock2shop", "21"), ("xtnd", "x")):
        ours = draws(seeded(1, *scope).fake)
        plain = Faker("en_US")
        plain.seed_instance(derive(1, *scope))
        assert ours == draws(plain), scope


def test_a_context_is_fresh_each_time_and_each_thread_has_its_own():
    first = draws(seeded(7, "api2cart", "s1").fake)
    seeded(7, "api2cart", "other").fake.first_name()
    assert draws(seeded(7, "api2cart", "s1").fake) == first  # reseeded, unique names forgotten
    mine = seeded(7, "api2cart", "s1").fake
    theirs = []
    thread = threading.Thread(target=lambda: theirs.append(seeded(7, "api2cart", "s1").fake))
    thread.start()
    thread.join()
    assert theirs[0] is not mine
