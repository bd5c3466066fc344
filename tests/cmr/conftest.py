from tests.cmr_mock import callback_receiver, cmr_mock, cmr_mock_factory  # noqa: F401


def pytest_configure(config):
    config.addinivalue_line("markers", "fault: the outbox fault test (real Celery workers, Redis restart)")
