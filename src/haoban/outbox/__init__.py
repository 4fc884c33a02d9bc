"""The transactional outbox: side effects written with the change, run after commit."""

from haoban.outbox.service import Handler, complete, enqueue

__all__ = ["Handler", "complete", "enqueue"]
