"""``python -m fingerprint``: the ``fingerprint`` command (:func:`fingerprint.cli.main`)."""

from fingerprint.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
