"""One training step of the HIT paper's two MNIST hierarchical VAEs in PyTorch (eager).

Architecture source (reproduced layer by layer, same parameter names):
  repository  https://github.com/timxzz/HIT  (Xiao & Bamler, "Trading Information between
              Latents in Hierarchical Variational Autoencoders", ICLR 2023)
  commit      0b34fbefc56899636ec5951de210ec7300a74e2f ("added arxiv link", 2023-02-10)
  files       models.py       -> BaseHVAE + HVAE_Fixed_z   (here: GHVAE)
              models_lvae.py  -> BaseLVAE + LVAE_Fixed_z   (here: LVAE)
              train.py        -> Adam(lr=3e-4), batch 256, loss.backward(), optimizer.step()
  configuration: dataset "BinaryMNIST" (28x28x1), qz_family "DiagonalGaussian",
              px_y_family_ll "Bernoulli", num_c (--conv_channels) 16, z_dims 20,
              linear_y_with_dims -1 (z1 = "y" is a 16x4x4 conv latent), beta_y = beta_z = 1.
  Naming: HIT calls the top latent z (= z2 here, 20-d) and the bottom latent y (= z1, 16x4x4).

Loss (as BaseHVAE/BaseLVAE.forward): mean over the batch of
  -[ sum_pixels x*log(f+1e-8) + (1-x)*log(1-f+1e-8) ]  +  beta_y*KL(q(z1|.)||p(z1|z2))  +  beta_z*KL(q(z2|x)||N(0,I))
with f = sigmoid(decoder output) and both KLs from torch.distributions (Normal, Independent), as the code does.

Data: random binary 28x28 images (Bernoulli(0.5), 8 pre-made batches cycled); no MNIST needed
(the step's cost does not depend on the pixel values).

Usage:
  python hit_torch_step.py [--model ghvae|lvae|both] [--threads N] [--batch 256]
                           [--steps 50] [--warmup 10] [--device cpu|cuda]
Prints parameter counts (asserted: GHVAE 122,713, LVAE 104,745), median and mean ms per training
step (eps sampling + forward + loss + backward + Adam step, one host sync per step), and one JSON
line per model at the end.
"""
import argparse
import json
import os
import statistics
import time

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--model", choices=["ghvae", "lvae", "both"], default="both")
parser.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (and OMP_NUM_THREADS)")
parser.add_argument("--batch", type=int, default=256)
parser.add_argument("--steps", type=int, default=50, help="timed training steps")
parser.add_argument("--warmup", type=int, default=10, help="untimed training steps before timing")
parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
parser.add_argument("--seed", type=int, default=0)
args = parser.parse_args()
os.environ["OMP_NUM_THREADS"] = str(args.threads)  # before importing torch, as the shared baselines do

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch import distributions as D  # noqa: E402

torch.set_num_threads(args.threads)

C = 16          # num_c
Z2 = 20         # z_dims (HIT's "z")
IMG_HW, IMG_C = 28, 1
LR = 3e-4
BETA_Y = 1.0    # weight of KL_z1 (HIT: beta_y)
BETA_Z = 1.0    # weight of KL_z2 (HIT: beta_z)
EXPECTED_PARAMS = {"ghvae": 122_713, "lvae": 104_745}

# MNIST sizes in HVAE_Fixed_z / LVAE_Fixed_z: kernel_size1=4, stride1=2, padding1=1 (28->14->7);
# kernel_size_mid=4, stride_mid=1, padding_mid=0 (7->4); q(z1) heads k3 s1 p1.
K1, S1, P1 = 4, 2, 1
KM, SM, PM = 4, 1, 0
KQ, SQ, PQ = 3, 1, 1
HW3 = 4                      # mid_HW_3
Z1_DIMS = C * HW3 * HW3      # y_dims = 256
H_DIMS = Z1_DIMS // 2        # p(z1|z2) hidden width = 128


def reparameterize_normal(mu, std):
    # HIT: eps = torch.randn(mu.size()).to(self.device); here drawn directly on mu's device
    # (identical on CPU; on CUDA HIT draws on the host and copies).
    return mu + torch.randn(mu.size(), device=mu.device) * std


def bernoulli_ll(x, fy):
    # BaseHVAE.loglikelihood_x_y, 'Bernoulli' branch (probabilities, not logits; +1e-8 inside the logs)
    x = x.view(-1, IMG_C * IMG_HW ** 2)
    fy = fy.view(-1, IMG_C * IMG_HW ** 2)
    return torch.sum(torch.flatten(x * torch.log(fy + 1e-8) + (1 - x) * torch.log(1 - fy + 1e-8), start_dim=1), dim=-1)


def neg_elbo(x, fy, qz_mu, qz_std, qy_mu, qy_std, py_mu, py_std, z):
    # BaseHVAE.forward / BaseLVAE.forward (DiagonalGaussian, y_by_Conv=True, z_by_Conv=False, wu_temp=1)
    ll = bernoulli_ll(x, fy)
    qy = D.independent.Independent(D.normal.Normal(qy_mu, qy_std), 3)
    py = D.independent.Independent(D.normal.Normal(py_mu, py_std), 3)
    qz = D.independent.Independent(D.normal.Normal(qz_mu, qz_std), 1)
    pz = D.independent.Independent(D.normal.Normal(torch.zeros_like(z), torch.ones_like(z)), 1)
    kl_z = D.kl.kl_divergence(qz, pz)
    kl_y = D.kl.kl_divergence(qy, py)
    elbo = ll - BETA_Y * kl_y - BETA_Z * kl_z
    return -elbo.mean()


class GHVAE(nn.Module):
    """HIT models.py HVAE_Fixed_z (MNIST, DiagonalGaussian, Bernoulli, conv y)."""

    def __init__(self):
        super().__init__()
        # q(z|x)
        self.qz_conv1 = nn.Conv2d(IMG_C, C, K1, S1, P1)       # c x 14 x 14
        self.qz_conv2 = nn.Conv2d(C, C, K1, S1, P1)           # c x 7 x 7
        self.qz_conv3 = nn.Conv2d(C, C, KM, SM, PM)           # c x 4 x 4
        self.qz_mu = nn.Linear(C * HW3 * HW3, Z2)
        self.qz_pre_sp = nn.Linear(C * HW3 * HW3, Z2)
        # q(y|z,x)
        self.qy_conv1_x = nn.Conv2d(IMG_C, C, K1, S1, P1)     # c x 14 x 14
        self.qy_conv2_x = nn.Conv2d(C, C, K1, S1, P1)         # c x 7 x 7
        self.qy_l1_z = nn.Linear(Z2, C * HW3 * HW3)           # -> c x 4 x 4
        self.qy_conv1_z = nn.ConvTranspose2d(C, C, KM, SM, PM)  # c x 7 x 7
        self.qy_conv1_zx = nn.Conv2d(2 * C, C, KM, SM, PM)    # c x 4 x 4
        self.qy_mu = nn.Conv2d(C, C, KQ, SQ, PQ)
        self.qy_pre_sp = nn.Conv2d(C, C, KQ, SQ, PQ)
        # p(y|z)
        self.py_l1 = nn.Linear(Z2, H_DIMS)
        self.py_mu = nn.Linear(H_DIMS, Z1_DIMS)
        self.py_pre_sp = nn.Linear(H_DIMS, Z1_DIMS)
        # p(x|y)
        self.px_conv1 = nn.ConvTranspose2d(C, C, KM, SM, PM)  # c x 7 x 7
        self.px_convs = nn.Sequential(
            nn.ConvTranspose2d(C, C, K1, S1, P1),             # c x 14 x 14
            nn.ReLU(),
            nn.ConvTranspose2d(C, IMG_C, K1, S1, P1),         # 1 x 28 x 28
        )

    def q_z(self, x):
        h = F.relu(self.qz_conv1(x))
        h = F.relu(self.qz_conv2(h))
        h = F.relu(self.qz_conv3(h))
        h = h.view(h.size(0), -1)  # NCHW flatten
        z_mu = self.qz_mu(h)
        z_std = F.softplus(self.qz_pre_sp(h))
        return reparameterize_normal(z_mu, z_std), z_mu, z_std

    def q_y(self, z, x):
        x_h = F.relu(self.qy_conv1_x(x))
        x_h = F.relu(self.qy_conv2_x(x_h))
        z_h = F.relu(self.qy_l1_z(z))
        z_h = z_h.view(z_h.size(0), C, HW3, HW3)  # NCHW unflatten
        z_h = F.relu(self.qy_conv1_z(z_h))
        h = torch.cat((z_h, x_h), dim=1)          # z-branch channels first
        h = F.relu(self.qy_conv1_zx(h))
        y_mu = self.qy_mu(h)
        y_std = F.softplus(self.qy_pre_sp(h))
        return reparameterize_normal(y_mu, y_std), y_mu, y_std

    def p_y(self, z):
        h = F.relu(self.py_l1(z))
        y_mu = self.py_mu(h)
        y_std = F.softplus(self.py_pre_sp(h))
        y_mu = y_mu.view(y_mu.size(0), C, HW3, HW3)
        y_std = y_std.view(y_std.size(0), C, HW3, HW3)
        return reparameterize_normal(y_mu, y_std), y_mu, y_std  # the sample is unused in training, as in HIT

    def p_x(self, y):
        h = F.relu(self.px_conv1(y))
        return torch.sigmoid(self.px_convs(h))

    def forward(self, x):
        z, qz_mu, qz_std = self.q_z(x)
        y, qy_mu, qy_std = self.q_y(z, x)
        _, py_mu, py_std = self.p_y(z)
        fy = self.p_x(y)
        return neg_elbo(x, fy, qz_mu, qz_std, qy_mu, qy_std, py_mu, py_std, z)


class LVAE(nn.Module):
    """HIT models_lvae.py LVAE_Fixed_z (MNIST, DiagonalGaussian, Bernoulli, conv y)."""

    def __init__(self):
        super().__init__()
        # q(z|x), with the shared deterministic path dy
        self.qz_conv1 = nn.Conv2d(IMG_C, C, K1, S1, P1)       # c x 14 x 14
        self.qz_conv2_dy = nn.Conv2d(C, C, K1, S1, P1)        # c x 7 x 7  (dy, after ReLU)
        self.qz_conv3 = nn.Conv2d(C, C, KM, SM, PM)           # c x 4 x 4
        self.qz_mu = nn.Linear(C * HW3 * HW3, Z2)
        self.qz_pre_sp = nn.Linear(C * HW3 * HW3, Z2)
        # q(y|dy) bottom-up estimate, merged with p(y|z)
        self.qy_conv1_dy = nn.Conv2d(C, C, KM, SM, PM)        # c x 4 x 4
        self.qy_mu = nn.Conv2d(C, C, KQ, SQ, PQ)
        self.qy_pre_sp = nn.Conv2d(C, C, KQ, SQ, PQ)
        # p(y|z)
        self.py_l1 = nn.Linear(Z2, H_DIMS)
        self.py_mu = nn.Linear(H_DIMS, Z1_DIMS)
        self.py_pre_sp = nn.Linear(H_DIMS, Z1_DIMS)
        # p(x|y)
        self.px_conv1 = nn.ConvTranspose2d(C, C, KM, SM, PM)  # c x 7 x 7
        self.px_conv2 = nn.ConvTranspose2d(C, C, K1, S1, P1)  # c x 14 x 14
        self.px_conv3 = nn.ConvTranspose2d(C, IMG_C, K1, S1, P1)  # 1 x 28 x 28

    def q_z(self, x):
        h = F.relu(self.qz_conv1(x))
        dy = F.relu(self.qz_conv2_dy(h))
        h = F.relu(self.qz_conv3(dy))
        h = h.view(h.size(0), -1)
        z_mu = self.qz_mu(h)
        z_std = F.softplus(self.qz_pre_sp(h))
        return reparameterize_normal(z_mu, z_std), z_mu, z_std, dy

    def q_y(self, dy, py_mu, py_std):
        h = F.relu(self.qy_conv1_dy(dy))
        y_mu_hat = self.qy_mu(h)
        y_var_hat = F.softplus(self.qy_pre_sp(h))  # softplus read as a VARIANCE here (p's softplus is a std)
        py_var = py_std ** 2
        y_std = torch.sqrt((y_var_hat * py_var) / (y_var_hat + py_var))
        y_mu = (y_mu_hat * py_var + py_mu * y_var_hat) / (y_var_hat + py_var)
        return reparameterize_normal(y_mu, y_std), y_mu, y_std

    def p_y(self, z):
        h = F.relu(self.py_l1(z))
        y_mu = self.py_mu(h)
        y_std = F.softplus(self.py_pre_sp(h))
        y_mu = y_mu.view(y_mu.size(0), C, HW3, HW3)
        y_std = y_std.view(y_std.size(0), C, HW3, HW3)
        return reparameterize_normal(y_mu, y_std), y_mu, y_std  # the sample is unused in training, as in HIT

    def p_x(self, y):
        h = F.relu(self.px_conv1(y))
        h = F.relu(self.px_conv2(h))
        return torch.sigmoid(self.px_conv3(h))

    def forward(self, x):
        z, qz_mu, qz_std, dy = self.q_z(x)
        _, py_mu, py_std = self.p_y(z)   # prior of y conditioned on the SAMPLED z
        y, qy_mu, qy_std = self.q_y(dy, py_mu, py_std)
        fy = self.p_x(y)
        return neg_elbo(x, fy, qz_mu, qz_std, qy_mu, qy_std, py_mu, py_std, z)


MODELS = {"ghvae": GHVAE, "lvae": LVAE}


def _cpu_ticks():
    """(all busy ticks on the machine, this process's ticks) from /proc; None where unavailable."""
    try:
        with open("/proc/stat") as f:
            v = list(map(int, f.readline().split()[1:9]))
        with open("/proc/self/stat") as f:
            s = f.read().rsplit(")", 1)[1].split()
        return sum(v) - v[3] - v[4], int(s[11]) + int(s[12])
    except OSError:
        return None


def bench(name, dev):
    torch.manual_seed(args.seed)
    model = MODELS[name]().to(dev)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"{name}: {n_params:,} parameters")
    assert n_params == EXPECTED_PARAMS[name], f"{name}: {n_params} parameters, expected {EXPECTED_PARAMS[name]}"
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    g = torch.Generator().manual_seed(args.seed)
    data = [torch.bernoulli(torch.full((args.batch, IMG_C, IMG_HW, IMG_HW), 0.5), generator=g).to(dev) for _ in range(8)]
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)

    def step(i):
        opt.zero_grad(set_to_none=True)   # train.py: optimizer.zero_grad()
        loss = model(data[i % len(data)])
        loss.backward()
        opt.step()
        sync()
        return loss.detach()

    losses = [float(step(i)) for i in range(args.warmup)]
    times = []
    ticks0, wall0 = _cpu_ticks(), time.perf_counter()
    for i in range(args.warmup, args.warmup + args.steps):
        t0 = time.perf_counter()
        loss = step(i)
        times.append((time.perf_counter() - t0) * 1e3)
    ticks1, wall = _cpu_ticks(), time.perf_counter() - wall0
    # CPU cores that OTHER processes used on average during the timed window (the machine is shared)
    other = None
    if ticks0 and ticks1:
        other = max(0.0, round(((ticks1[0] - ticks0[0]) - (ticks1[1] - ticks0[1])) / os.sysconf("SC_CLK_TCK") / wall, 2))
    losses.append(float(loss))
    med, mean = statistics.median(times), statistics.fmean(times)
    print(f"{name}: {med:8.2f} ms/step median, {mean:8.2f} ms/step mean, min {min(times):.2f}, max {max(times):.2f} "
          f"({args.steps} steps after {args.warmup} warm-up; batch {args.batch}; {dev.type}; {args.threads} threads; "
          f"loss {losses[0]:.1f} -> {losses[-1]:.1f}; other processes used {other} cores)")
    return {"model": name, "device": dev.type, "threads": args.threads, "batch": args.batch,
            "median_ms": round(med, 3), "mean_ms": round(mean, 3), "params": n_params,
            "torch": torch.__version__, "steps": args.steps, "warmup": args.warmup, "other_cores": other}


def main():
    dev = torch.device(args.device)
    print(f"torch {torch.__version__}; threads {torch.get_num_threads()}; device {dev.type}; random binary data")
    names = ["ghvae", "lvae"] if args.model == "both" else [args.model]
    records = [bench(n, dev) for n in names]
    for r in records:
        print(json.dumps(r))


if __name__ == "__main__":
    main()
