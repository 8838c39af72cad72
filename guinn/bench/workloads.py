"""The reference workloads: the MNIST example network through the public ``fit``, the same
training in PyTorch (when importable), and the GEMM floor (only the matrix products)."""

from __future__ import annotations

import time

import numpy as np

REFERENCE = dict(widths=(784, 500, 500, 10), activation="sigmoid", batch_size=100)
DEEP_NARROW = dict(widths=(784,) + (64,) * 10 + (10,), activation="sigmoid", batch_size=100)


def mnist_arrays(n: int):
    from guinn.datasets import mnist
    from guinn.utils import to_categorical

    (x, y), _ = mnist.load_data()
    x = x[:n].reshape(-1, 784).astype(np.float32)
    x /= np.float32(255)  # in place: no second copy of the images
    return x, to_categorical(y[:n], 10), y[:n].astype(np.int64)


def guinn_model(widths, activation, telemetry=True, seed=0):
    from guinn.layers import Dense
    from guinn.models import Sequential

    model = Sequential(seed=seed)
    model.add(Dense(widths[1], activation=activation, input_dim=widths[0]))
    for w in widths[2:-1]:
        model.add(Dense(w, activation=activation))
    model.add(Dense(widths[-1], activation="softmax"))
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    model.set_telemetry(telemetry)
    return model


SETTLE_SECONDS = 0.5


def settle() -> None:
    """Let the previous contender's BLAS or OpenMP worker threads go to sleep: they spin on the
    cores for up to ~0.1 s after their last call, and would slow whatever is timed next."""
    time.sleep(SETTLE_SECONDS)


def time_guinn(x, y_onehot, widths, activation, batch_size, epochs=1, telemetry=True) -> float:
    """Seconds for ``epochs`` of ``model.fit`` (model built and compiled beforehand)."""
    model = guinn_model(widths, activation, telemetry)
    model.fit(x[:batch_size * 2], y_onehot[:batch_size * 2], batch_size=batch_size, epochs=1, verbose=0)
    settle()
    start = time.perf_counter()
    model.fit(x, y_onehot, batch_size=batch_size, epochs=epochs, verbose=0)
    return time.perf_counter() - start


def torch_available() -> bool:
    try:
        import torch  # noqa: F401
    except Exception:
        return False
    return True


def time_torch(x, y_int, widths, activation, batch_size, epochs=1) -> float:
    """The same training in PyTorch on the CPU: Linear+activation stack, CE loss, Adam."""
    import torch
    from torch import nn

    torch.manual_seed(0)
    act = {"sigmoid": nn.Sigmoid, "relu": nn.ReLU, "tanh": nn.Tanh}[activation]
    layers = []
    for a, b in zip(widths[:-2], widths[1:-1], strict=False):
        layers += [nn.Linear(a, b), act()]
    layers.append(nn.Linear(widths[-2], widths[-1]))
    net = nn.Sequential(*layers)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3, eps=1e-7)
    loss_fn = nn.CrossEntropyLoss()
    xt, yt = torch.from_numpy(x), torch.from_numpy(y_int)

    def run(n_epochs, xs, ys):
        n = len(xs)
        for _ in range(n_epochs):
            order = torch.randperm(n)
            for start in range(0, n, batch_size):
                idx = order[start:start + batch_size]
                xb, yb = xs[idx], ys[idx]
                opt.zero_grad(set_to_none=True)
                loss = loss_fn(net(xb), yb)
                loss.backward()
                opt.step()
                loss.item()  # guinn reports every batch's loss; so does this loop

    run(1, xt[:batch_size * 2], yt[:batch_size * 2])
    settle()
    start = time.perf_counter()
    run(epochs, xt, yt)
    return time.perf_counter() - start


def time_gemm_floor(n_samples, widths, batch_size) -> float:
    """Only the forward and backward matrix products of one pass over ``n_samples``."""
    rng = np.random.default_rng(0)
    ws = [rng.standard_normal((a, b), dtype=np.float32) * 0.05 for a, b in zip(widths[:-1], widths[1:], strict=False)]
    acts = [np.empty((batch_size, w), np.float32) for w in widths]
    deltas = [np.empty((batch_size, w), np.float32) for w in widths]
    grads = [np.empty_like(w) for w in ws]
    acts[0][...] = rng.random((batch_size, widths[0]), dtype=np.float32)
    deltas[-1][...] = rng.random((batch_size, widths[-1]), dtype=np.float32)
    steps = n_samples // batch_size
    settle()
    start = time.perf_counter()
    for _ in range(steps):
        for i, w in enumerate(ws):
            np.matmul(acts[i], w, out=acts[i + 1])
        for i in range(len(ws) - 1, -1, -1):
            np.matmul(acts[i].T, deltas[i + 1], out=grads[i])
            if i:
                np.matmul(deltas[i + 1], ws[i].T, out=deltas[i])
    return time.perf_counter() - start


def telemetry_cost(x, y_onehot, widths, activation, batch_size, pairs=400, block_steps=1) -> float:
    """Extra training time with per-layer telemetry on, as a fraction of the time with it off.

    One ``fit`` trains through ``2 * pairs`` blocks of ``block_steps`` batches, and a callback
    turns telemetry on for one block of each pair and off for the other (which goes first
    alternates); the result is the median of the paired ratios. Blocks a few milliseconds
    apart in one fit: what the machine does meanwhile mostly cancels, and only the few blocks
    that start an epoch pay for it, which the median leaves out (separate fits per block made
    single runs differ by several percent).
    """
    import statistics

    from guinn.callbacks import Callback

    class Toggle(Callback):
        def __init__(self):
            super().__init__()
            self.steps, self.began, self.seconds = 0, 0.0, []  # seconds: (telemetry on?, block time)

        def on_train_begin(self, logs=None):
            self.model.set_telemetry(self.wanted(0))
            self.began = time.perf_counter()

        @staticmethod
        def wanted(block):  # on, off, off, on, on, off, ...
            return (block % 2 == 0) == ((block // 2) % 2 == 0)

        def on_train_batch_end(self, batch, logs=None):
            self.steps += 1
            if self.steps % block_steps == 0:
                now = time.perf_counter()
                self.seconds.append((self.model.telemetry, now - self.began))
                if len(self.seconds) == 2 * pairs:  # (never cleared here: training may have stopped itself)
                    self.model.stop_training = True
                self.model.set_telemetry(self.wanted(len(self.seconds)))
                self.began = time.perf_counter()

    model = guinn_model(widths, activation, telemetry=True)
    model.fit(x[:batch_size * 2], y_onehot[:batch_size * 2], batch_size=batch_size, epochs=1, verbose=0)  # warm up
    toggle = Toggle()
    settle()
    batches = max(1, len(x) // batch_size)  # whole batches (one smaller one if x is shorter than a batch)
    rows = min(len(x), batches * batch_size)
    epochs = -(-2 * pairs * block_steps // batches)  # as many passes over x as the blocks need
    model.fit(x[:rows], y_onehot[:rows], batch_size=batch_size, epochs=epochs, verbose=0, callbacks=[toggle])
    ratios = []
    for first, second in zip(toggle.seconds[0::2], toggle.seconds[1::2], strict=False):
        on, off = (first, second) if first[0] else (second, first)
        ratios.append(on[1] / off[1])
    return statistics.median(ratios) - 1


def step_breakdown(x, y_onehot, widths, activation, batch_size, repeats=7, steps=100) -> dict:
    """Milliseconds per training step, split into the parts the GEMM-floor ratio depends on.

    Each part is the best of ``repeats`` timings of ``steps`` steps on one fixed batch
    (telemetry off), taken as training runs them. With a split step (guinn.core.split):
    the phases holding the matrix products (run on every thread), the optimizer phase, and
    the whole step; the rest is the calling thread's own work (the loss, the output layer's
    bias and activation, the accuracy, the overflow check; hand-overs count in the phases).
    Without: the forward and
    backward pass through the layers, the optimizer, and the whole step.
    """
    import collections

    import numpy as np

    from guinn.core import split

    model = guinn_model(widths, activation, telemetry=False)
    model.fit(x[:batch_size * 2], y_onehot[:batch_size * 2], batch_size=batch_size, epochs=1, verbose=0)
    xb, yb = np.ascontiguousarray(x[:batch_size]), np.ascontiguousarray(y_onehot[:batch_size])
    labels = yb.argmax(axis=1)
    rng = np.random.default_rng(0)
    floor = min(time_gemm_floor(steps * batch_size, widths, batch_size) for _ in range(repeats)) / steps * 1e3
    engine = split.SplitStep.plan(model, batch_size)
    if engine is None:
        return {"floor": floor, "split": 1, **_ordinary_parts(model, xb, yb, labels, rng, repeats, steps)}
    with engine:
        phase_seconds: dict = collections.defaultdict(float)
        run_phase = engine._phase

        def timed_phase(phase):
            began = time.perf_counter()
            run_phase(phase)
            phase_seconds[phase] += time.perf_counter() - began

        engine._phase = timed_phase
        best = None
        for _ in range(repeats):
            phase_seconds.clear()
            began = time.perf_counter()
            for _ in range(steps):
                engine(xb, yb, labels, rng, 0, 0)
            took = time.perf_counter() - began
            if best is None or took < best[0]:
                best = (took, dict(phase_seconds))
    took, phases = best
    optimizer = phases.pop(engine.step_phase, 0.0)
    return {"floor": floor, "split": engine.parts, "products": sum(phases.values()) / steps * 1e3,
            "optimizer": optimizer / steps * 1e3, "step": took / steps * 1e3}


def _ordinary_parts(model, xb, yb, labels, rng, repeats, steps) -> dict:
    def forward_backward():
        out = xb
        for layer in model.layers:
            out = layer.forward(out, True, rng)
        _, g = model.loss.fused(yb, model.layers[-1].logits, out)
        for layer, need in zip(reversed(model.layers), reversed(model._need_input_grad), strict=True):
            g = layer.backward(g, need)

    def optimizer_update():  # the step's optimizer part as training runs it (fused when Numba is there)
        model._optimizer_step()
        model._apply_update()

    def whole_step():
        model._train_step(xb, yb, labels, rng, 0, 0)

    def best_ms(fn):
        fn()
        best = float("inf")
        for _ in range(repeats):
            began = time.perf_counter()
            for _ in range(steps):
                fn()
            best = min(best, (time.perf_counter() - began) / steps)
        return best * 1e3

    return {"products": best_ms(forward_backward), "optimizer": best_ms(optimizer_update), "step": best_ms(whole_step)}
