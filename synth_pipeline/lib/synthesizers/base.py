"""What our own synthesizers share with SDV's: ``save(path)`` and ``load(path)`` as one pickle file."""

from __future__ import annotations

from typing import Self

import cloudpickle


class PickledSynthesizer:
    def reset_sampling(self, seed: int | None = None) -> None:
        """Restart the sampling stream: from the fitted seed, or from ``seed``."""
        raise NotImplementedError

    def save(self, filepath: str) -> None:
        with open(filepath, "wb") as fh:
            cloudpickle.dump(self, fh)

    @classmethod
    def load(cls, filepath: str) -> Self:
        with open(filepath, "rb") as fh:
            model = cloudpickle.load(fh)
        if not isinstance(model, cls):
            raise TypeError(f"{filepath} does not hold a {cls.__name__}")
        return model
