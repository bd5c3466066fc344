from tests.cmr_mock import callback_receiver, cmr_mock, cmr_mock_factory  # noqa: F401
