#!/usr/bin/python3
"""Reference trajectories for tests/optim/*.test.cpp, produced by torch.optim (PyTorch 1.13).

Run with the system Python that has torch: /usr/bin/python3 tests/reference/optim_reference.py
It prints C++ initialisers that are pasted into the tests (full double precision, repr()).

Problem: two parameters, P0 (2x3) and P1 (3x1), whose gradient is a fixed polynomial of the
parameter value, g(p) = 2 * (p - c) + 0.1 * p^3 (elementwise, c fixed), so the C++ test can
compute the same gradients without any library math function. Each optimizer takes 5 steps
(single-tensor code path, foreach=False); the values of both parameters after every step are
printed row-major, P0 then P1.
"""
import torch

torch.set_default_dtype(torch.float64)

P0 = [[0.5, -1.0, 2.0], [0.0, 1.5, -0.25]]
P1 = [[1.0], [-2.0], [0.75]]
C0 = [[1.0, 0.0, -1.0], [0.5, 0.5, 0.5]]
C1 = [[-1.0], [0.25], [2.0]]
STEPS = 5


def grad_of(p, c):
    return 2.0 * (p - c) + 0.1 * p ** 3


def trajectory(make):
    p0 = torch.tensor(P0, requires_grad=True)
    p1 = torch.tensor(P1, requires_grad=True)
    c0, c1 = torch.tensor(C0), torch.tensor(C1)
    opt = make([p0, p1])
    rows = []
    for _ in range(STEPS):
        with torch.no_grad():
            p0.grad = grad_of(p0, c0)
            p1.grad = grad_of(p1, c1)
        opt.step()
        rows.append(p0.detach().flatten().tolist() + p1.detach().flatten().tolist())
    return rows


def emit(ident, name, rows):
    print(f"// torch.optim.{name}")
    print(f"constexpr double {ident}[{len(rows)}][{len(rows[0])}] = {{")
    for r in rows:
        print("    {" + ", ".join(repr(x) for x in r) + "},")
    print("};")


O = torch.optim
CASES = [
    ("sgd_plain", "SGD lr=0.1", lambda ps: O.SGD(ps, lr=0.1, foreach=False)),
    ("sgd_momentum", "SGD lr=0.1 momentum=0.9", lambda ps: O.SGD(ps, lr=0.1, momentum=0.9, foreach=False)),
    ("sgd_dampening", "SGD lr=0.1 momentum=0.9 dampening=0.5", lambda ps: O.SGD(ps, lr=0.1, momentum=0.9, dampening=0.5, foreach=False)),
    ("sgd_nesterov_wd", "SGD lr=0.05 momentum=0.9 nesterov weight_decay=0.01",
     lambda ps: O.SGD(ps, lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01, foreach=False)),
    ("sgd_momentum_wd_dampening", "SGD lr=0.1 momentum=0.8 weight_decay=0.05 dampening=0.1",
     lambda ps: O.SGD(ps, lr=0.1, momentum=0.8, weight_decay=0.05, dampening=0.1, foreach=False)),
    ("adam_default", "Adam lr=0.1", lambda ps: O.Adam(ps, lr=0.1, foreach=False)),
    ("adam_l2_eps", "Adam lr=0.05 betas=(0.8,0.95) eps=1e-3 weight_decay=0.1",
     lambda ps: O.Adam(ps, lr=0.05, betas=(0.8, 0.95), eps=1e-3, weight_decay=0.1, foreach=False)),
    ("adam_amsgrad", "Adam lr=0.1 amsgrad", lambda ps: O.Adam(ps, lr=0.1, amsgrad=True, foreach=False)),
    # beta2 = 0.5: v_t falls from step 3 on, so max(v) differs from v (with beta2 = 0.999 it never
    # falls in 5 steps and the amsgrad rows equal the plain Adam rows).
    ("adam_amsgrad_fast_beta2", "Adam lr=0.1 betas=(0.9,0.5) amsgrad",
     lambda ps: O.Adam(ps, lr=0.1, betas=(0.9, 0.5), amsgrad=True, foreach=False)),
    ("adamw_decoupled", "AdamW lr=0.05 betas=(0.8,0.95) eps=1e-3 weight_decay=0.1",
     lambda ps: O.AdamW(ps, lr=0.05, betas=(0.8, 0.95), eps=1e-3, weight_decay=0.1, foreach=False)),
    ("adamw_amsgrad", "AdamW lr=0.1 amsgrad (weight_decay default 1e-2)",
     lambda ps: O.AdamW(ps, lr=0.1, amsgrad=True, foreach=False)),
    ("adamw_amsgrad_fast_beta2", "AdamW lr=0.1 betas=(0.9,0.5) amsgrad (weight_decay default 1e-2)",
     lambda ps: O.AdamW(ps, lr=0.1, betas=(0.9, 0.5), amsgrad=True, foreach=False)),
    ("rmsprop_default", "RMSprop defaults (lr=0.01 alpha=0.99 eps=1e-8)", lambda ps: O.RMSprop(ps, foreach=False)),
    ("rmsprop_alpha_eps_wd", "RMSprop lr=0.02 alpha=0.9 eps=1e-2 weight_decay=0.1",
     lambda ps: O.RMSprop(ps, lr=0.02, alpha=0.9, eps=1e-2, weight_decay=0.1, foreach=False)),
    ("rmsprop_centered", "RMSprop lr=0.01 centered", lambda ps: O.RMSprop(ps, lr=0.01, centered=True, foreach=False)),
    ("rmsprop_momentum", "RMSprop lr=0.01 momentum=0.9", lambda ps: O.RMSprop(ps, lr=0.01, momentum=0.9, foreach=False)),
    ("rmsprop_centered_momentum_wd", "RMSprop lr=0.01 alpha=0.9 centered momentum=0.5 weight_decay=0.05",
     lambda ps: O.RMSprop(ps, lr=0.01, alpha=0.9, centered=True, momentum=0.5, weight_decay=0.05, foreach=False)),
    ("adagrad_default", "Adagrad lr=0.1", lambda ps: O.Adagrad(ps, lr=0.1, foreach=False)),
    ("adagrad_decay_wd_init", "Adagrad lr=0.1 eps=1e-3 lr_decay=0.1 weight_decay=0.05 initial_accumulator_value=0.1",
     lambda ps: O.Adagrad(ps, lr=0.1, eps=1e-3, lr_decay=0.1, weight_decay=0.05,
                          initial_accumulator_value=0.1, foreach=False)),
]


def lr_per_epoch(make_sched, epochs, metrics=None):
    """Learning rate used in epoch 0, 1, ..., epochs-1 (scheduler stepped after each epoch)."""
    p = torch.zeros(1, requires_grad=True)
    opt = O.SGD([p], lr=0.1)
    sched = make_sched(opt)
    lrs = []
    for e in range(epochs):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()  # no gradient: changes nothing, keeps torch's call-order check quiet
        if metrics is None:
            sched.step()
        else:
            sched.step(metrics[e])
    return lrs


PLATEAU_METRICS = [1.0, 0.95, 0.92, 0.93, 0.91, 0.7, 0.69, 0.68, 0.68, 0.5, 0.49, 0.49, 0.49, 0.49, 0.49, 0.49,
                   0.49, 0.49, 0.49, 0.49, 0.49, 0.49, 0.49, 0.49]
PLATEAU_METRICS_MAX = [0.1, 0.2, 0.25, 0.26, 0.255, 0.3, 0.3, 0.31, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5]

SCHEDULES = [
    ("step_lr", "StepLR step_size=3 gamma=0.5", lambda o: O.lr_scheduler.StepLR(o, step_size=3, gamma=0.5), 10, None),
    ("exponential_lr", "ExponentialLR gamma=0.9", lambda o: O.lr_scheduler.ExponentialLR(o, gamma=0.9), 10, None),
    ("cosine_lr", "CosineAnnealingLR T_max=6 eta_min=0.01", lambda o: O.lr_scheduler.CosineAnnealingLR(o, T_max=6, eta_min=0.01), 15, None),
    ("linear_warmup", "LinearLR start_factor=0.25 end_factor=1 total_iters=4",
     lambda o: O.lr_scheduler.LinearLR(o, start_factor=0.25, end_factor=1.0, total_iters=4), 8, None),
    ("warmup_step_lr", "ChainedScheduler(LinearLR(0.25, total_iters=4), StepLR(3, 0.5))",
     lambda o: O.lr_scheduler.ChainedScheduler([
         O.lr_scheduler.LinearLR(o, start_factor=0.25, end_factor=1.0, total_iters=4),
         O.lr_scheduler.StepLR(o, step_size=3, gamma=0.5)]), 10, None),
    ("plateau_min", "ReduceLROnPlateau min factor=0.5 patience=2 threshold=0.05 cooldown=1 min_lr=0.02",
     lambda o: O.lr_scheduler.ReduceLROnPlateau(o, mode="min", factor=0.5, patience=2, threshold=0.05,
                                                cooldown=1, min_lr=0.02), len(PLATEAU_METRICS), PLATEAU_METRICS),
    ("plateau_max_abs", "ReduceLROnPlateau max abs factor=0.1 patience=1 threshold=0.01",
     lambda o: O.lr_scheduler.ReduceLROnPlateau(o, mode="max", factor=0.1, patience=1, threshold=0.01,
                                                threshold_mode="abs"), len(PLATEAU_METRICS_MAX), PLATEAU_METRICS_MAX),
]

if __name__ == "__main__":
    print("// ---- optimizer trajectories: P0 (2x3 row-major) then P1 (3x1) after steps 1..5")
    for ident, name, make in CASES:
        emit(ident, name, trajectory(make))
    print("// ---- learning rate per epoch (initial lr 0.1)")
    for ident, name, make, epochs, metrics in SCHEDULES:
        print(f"// torch.optim.lr_scheduler.{name}")
        lrs = lr_per_epoch(make, epochs, metrics)
        print(f"constexpr double {ident}[{len(lrs)}] = {{" + ", ".join(repr(x) for x in lrs) + "};")
    print("// metrics fed to the plateau schedules")
    print("constexpr double plateau_min_metrics[] = {" + ", ".join(repr(x) for x in PLATEAU_METRICS) + "};")
    print("constexpr double plateau_max_metrics[] = {" + ", ".join(repr(x) for x in PLATEAU_METRICS_MAX) + "};")
