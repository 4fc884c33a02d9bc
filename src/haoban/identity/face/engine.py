"""The face engine port and its process-pool adapter.

Detection and encoding are CPU-bound C++ (dlib) that would block the event loop for
tens of milliseconds per frame, so each frame of an attempt is one task in a
ProcessPoolExecutor and the frames run in parallel. The parent only runs the cheap
cross-frame checks and the match on the small results. Nothing is stored: frames live
only for the duration of the call, and the caller keeps templates and frame hashes.
"""

from __future__ import annotations

import asyncio
import hashlib
import multiprocessing
import secrets
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import CancelledError, Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Protocol

import msgspec

from haoban.identity.face import checks, errors, worker
from haoban.identity.face.features import (
    TEMPLATE_DIM,
    Encoding,
    FrameFeatures,
    FrameHash,
    FrameResult,
    template_from_bytes,
)
from haoban.identity.face.settings import FaceSettings


class Verification(msgspec.Struct, frozen=True, kw_only=True):
    """The outcome of an attempt that passed every check. A non-match is a result, not an error."""

    matched: bool
    distance: float  # the encoded frames' distances to the reference, fused (settings.fusion)
    threshold: float
    encoded_frames: tuple[int, ...]  # which frames were encoded and matched
    frame_hashes: tuple[FrameHash, ...]  # for the caller's 24-hour replay store, one per frame


class FaceEngine(Protocol):
    async def reference(self, photo: bytes) -> Encoding:
        """The encoding of the one face in a reference (registry ID) photo."""
        ...

    async def verify(
        self, frames: Sequence[bytes], reference: Encoding, *, seen: Sequence[FrameHash] = ()
    ) -> Verification:
        """Check an attempt's frames (raising a FaceError on the first problem) and match them."""
        ...

    async def close(self) -> None: ...

    @property
    def loaded(self) -> bool:
        """Every worker has started and loaded its models (readiness asks)."""
        ...

    async def warm_up(self) -> None: ...


def decide(
    results: Sequence[FrameResult], reference: Encoding, s: FaceSettings, seen: Sequence[FrameHash] = ()
) -> Verification:
    """The checks, then the match: what the server does with the workers' results (the harness too)."""
    encoded = checks.assess(results, s, seen)
    matched, fused = checks.match(list(encoded.values()), reference, s.match_threshold, fusion=s.fusion)
    return Verification(
        matched=matched,
        distance=fused,
        threshold=s.match_threshold,
        encoded_frames=tuple(sorted(encoded)),
        frame_hashes=tuple(r.hash for r in results if isinstance(r, FrameFeatures)),
    )


def limits_of(settings: FaceSettings) -> worker.Limits:
    return worker.Limits(
        max_pixels=settings.max_pixels,
        detect_side=settings.max_side,
        decode_side=settings.decode_side,
        hash_scale=settings.hash_scale,
    )


def random_frames(n: int, k: int) -> set[int]:
    """Which k of n frames are encoded and matched: unpredictable to the client, new per attempt."""
    return set(secrets.SystemRandom().sample(range(n), k))


class ProcessPoolFaceEngine:
    """FaceEngine on a process pool, with a bounded number of frame tasks in flight.

    An attempt takes one slot per distinct frame and gives each back when its task has
    finished in the worker, not when the caller stops waiting: a cancelled request's frames
    keep running, and they keep counting against the bound until they are done.
    """

    def __init__(self, settings: FaceSettings, *, choose: Callable[[int, int], set[int]] | None = None) -> None:
        self._settings = settings
        self._choose = choose or random_frames
        self._limits = limits_of(settings)
        self._in_flight = 0
        self._lock = threading.Lock()  # tasks end on the pool's manager thread
        self._closed = False
        self._loaded = False
        self._pool = self._new_pool()

    def _new_pool(self) -> ProcessPoolExecutor:
        # spawn, not fork: forking a process that runs an event loop and threads is unsafe.
        return ProcessPoolExecutor(
            max_workers=self._settings.workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=worker.init_worker,
        )

    @property
    def in_flight(self) -> int:
        return self._in_flight

    async def warm_up(self) -> None:
        """Start every worker and load its models now rather than on the first login."""
        loop = asyncio.get_running_loop()
        starts = [loop.run_in_executor(self._pool, worker.init_worker) for _ in range(self._settings.workers)]
        await asyncio.gather(*starts)
        self._loaded = True

    @property
    def loaded(self) -> bool:
        return self._loaded

    async def reference(self, photo: bytes) -> Encoding:
        result = (await self.analyze([photo], encode={0}, reference=True))[0]
        (face,) = checks.usable_faces([result], self._settings, reference=True)
        if face.template is None:
            raise RuntimeError("the worker did not encode the reference photo")
        return template_from_bytes(face.template)

    async def verify(
        self, frames: Sequence[bytes], reference: Encoding, *, seen: Sequence[FrameHash] = ()
    ) -> Verification:
        s = self._settings
        if reference.shape != (TEMPLATE_DIM,):
            raise ValueError(f"the reference is a {TEMPLATE_DIM}-d encoding")
        if not s.min_frames <= len(frames) <= s.max_frames:
            raise errors.FrameCount(None, f"send {s.min_frames} to {s.max_frames} frames, got {len(frames)}")
        self._check_sizes(frames)
        chosen = self._choose(len(frames), min(s.encode_frames, len(frames)))
        return decide(await self._run(frames, encode=chosen), reference, s, seen)

    def _check_reference(self, photo: bytes) -> None:
        if len(photo) > self._settings.max_reference_bytes:
            raise errors.FrameTooLarge(
                None, f"{len(photo)} bytes > {self._settings.max_reference_bytes}", source="reference"
            )

    def _check_sizes(self, frames: Sequence[bytes]) -> None:
        for i, frame in enumerate(frames):
            if len(frame) > self._settings.max_frame_bytes:
                raise errors.FrameTooLarge(i, f"{len(frame)} bytes > {self._settings.max_frame_bytes}")

    async def analyze(self, frames: Sequence[bytes], *, encode: set[int], reference: bool = False) -> list[FrameResult]:
        """Every frame through the workers, encoding those in `encode` (the evaluation harness's entry).

        With `reference` the one image is a registry photo: its own size limit, and the holder's
        face is the one that dwarfs any other.
        """
        if reference:
            self._check_reference(frames[0])
        else:
            self._check_sizes(frames)
        return await self._run(frames, encode=encode, dominant=reference)

    async def _run(self, frames: Sequence[bytes], *, encode: set[int], dominant: bool = False) -> list[FrameResult]:
        """One task per distinct frame (byte-identical frames share one), all in parallel."""
        if self._closed:
            raise errors.FaceEngineDown()
        by_digest: dict[bytes, list[int]] = {}
        for i, frame in enumerate(frames):
            by_digest.setdefault(hashlib.sha256(frame).digest(), []).append(i)
        with self._lock:
            if self._in_flight + len(by_digest) > self._settings.queue_frames:
                raise errors.FaceBusy()
            self._in_flight += len(by_digest)
        pool = self._pool
        tasks: list[tuple[list[int], Future[FrameResult]]] = []
        try:
            for n, indices in enumerate(by_digest.values()):
                first = indices[0]
                try:
                    future = pool.submit(
                        worker.analyze,
                        frames[first],
                        first,
                        bool(encode & set(indices)),
                        self._limits,
                        dominant=dominant,
                    )
                except BaseException:
                    self._release(len(by_digest) - n)
                    raise
                future.add_done_callback(lambda _f: self._release(1))
                tasks.append((indices, future))
            # Wait for every frame even when one fails, so no task outlives the call unawaited.
            outcomes = await asyncio.gather(*(asyncio.wrap_future(f) for _, f in tasks), return_exceptions=True)
            done: list[FrameResult] = []
            for outcome in outcomes:
                if isinstance(outcome, asyncio.CancelledError | CancelledError):
                    raise BrokenProcessPool("the pool was shut down under this attempt")
                if isinstance(outcome, BaseException):
                    raise outcome
                done.append(outcome)
        except BrokenProcessPool:
            if self._pool is pool and not self._closed:  # the first caller to see the break replaces it
                pool.shutdown(wait=False, cancel_futures=True)
                self._pool = self._new_pool()
                self._loaded = False  # readiness waits for the new workers' models
            raise errors.FaceEngineDown() from None
        results: list[FrameResult | None] = [None] * len(frames)
        for (indices, _), result in zip(tasks, done, strict=True):
            for i in indices:
                results[i] = msgspec.structs.replace(result, index=i)
        return [r for r in results if r is not None]

    def _release(self, slots: int) -> None:
        with self._lock:
            self._in_flight -= slots

    async def close(self) -> None:
        """Stop the workers; frames still queued are cancelled and later calls fail with FaceEngineDown."""
        self._closed = True
        await asyncio.to_thread(self._pool.shutdown, wait=True, cancel_futures=True)
