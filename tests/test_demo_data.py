"""The demonstration data: people a tester tells apart by name."""

from backoffice.devdata.demo import demo_names


def test_the_demo_gives_every_person_a_name_of_their_own():
    names = demo_names()
    assert len(names) > 40  # its staff, its counsel and the counsel of its registrations
    assert sorted({name for name in names if names.count(name) > 1}) == []
