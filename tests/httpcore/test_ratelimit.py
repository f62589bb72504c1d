from httpcore.ratelimit import take_call


def test_calls_within_the_limit_pass_and_the_next_is_refused_until_the_window_ends():
    decisions = [take_call(client_key="a", limit=3, window=60, now=120.0 + n) for n in range(4)]
    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert decisions[3].retry_after == 57
    assert take_call(client_key="a", limit=3, window=60, now=180.0).allowed is True


def test_clients_are_counted_apart():
    assert take_call(client_key="a", limit=1, window=60, now=0.0).allowed is True
    assert take_call(client_key="a", limit=1, window=60, now=1.0).allowed is False
    assert take_call(client_key="b", limit=1, window=60, now=1.0).allowed is True


def test_a_limit_of_zero_turns_the_check_off():
    assert all(take_call(client_key="a", limit=0, window=60).allowed for _ in range(100))
