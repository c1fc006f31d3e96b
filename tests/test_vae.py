"""The graph VAE: batching, encoders, constrained decoder, training, metrics, persistence."""
from __future__ import annotations

import random

import pytest
import torch

from graphvae_nas import Architecture
from graphvae_nas.errors import GraphVAENASError
from graphvae_nas.spaces import get_space
from graphvae_nas.vae import GraphVAE, VAEConfig, dense_graphs, to_architectures
from graphvae_nas.vae.metrics import (
    generation_stats,
    match_rate,
    reconstruction_accuracy,
)
from graphvae_nas.vae.persistence import load_model, read_model_file, save_model
from graphvae_nas.vae.trainer import TrainConfig, train_vae

from decoding_reference import assert_teacher_forcing_matches


SMALL = VAEConfig(hidden_size=32, latent_size=8)


def sample_archs(space_name: str, count: int, seed: int = 0) -> list[Architecture]:
    space = get_space(space_name)
    rng = random.Random(seed)
    return [space.sample(rng) for _ in range(count)]


def small_model(space_name: str, config: VAEConfig = SMALL, seed: int = 0) -> GraphVAE:
    torch.manual_seed(seed)
    return GraphVAE(get_space(space_name), config)


# ------------------------------------------------------------------------------ batching
@pytest.mark.parametrize("space_name", ["nb201", "enas", "nb101", "dag:ops=a,b;max_nodes=6"])
def test_dense_graphs_round_trip(space_name: str) -> None:
    space = get_space(space_name)
    archs = sample_archs(space_name, 30)
    graphs = dense_graphs(archs, space.vocabulary, space.max_nodes)
    assert graphs.types.shape == (30, space.max_nodes)
    assert graphs.adj.shape == (30, space.max_nodes, space.max_nodes)
    assert graphs.num_nodes.tolist() == [a.num_nodes for a in archs]
    assert (graphs.types[torch.arange(space.max_nodes) >= graphs.num_nodes[:, None]] == -1).all()
    assert to_architectures(graphs.types, graphs.adj, graphs.num_nodes, space.vocabulary) == archs


def test_dense_graphs_rejects_oversized() -> None:
    arch = get_space("enas", num_layers=12).sample(0)
    with pytest.raises(Exception, match="max_nodes"):
        dense_graphs([arch], get_space("enas").vocabulary, 8)


# ------------------------------------------------------------------------------ model shapes
@pytest.mark.parametrize("encoder", ["dvae", "gin"])
@pytest.mark.parametrize("space_name", ["enas", "nb201", "nb101"])
def test_encoder_shapes_and_finite_loss(encoder: str, space_name: str) -> None:
    config = VAEConfig(encoder=encoder, hidden_size=24, latent_size=6, gin_layers=2)
    model = small_model(space_name, config)
    graphs = model.batch(sample_archs(space_name, 12))
    mu, logvar = model.encode(graphs)
    assert mu.shape == logvar.shape == (12, 6)
    parts = model.loss(graphs)
    assert torch.isfinite(parts.loss) and parts.type_ll.item() < 0
    parts.loss.backward()
    assert all(p.grad is not None for p in model.encoder.parameters() if p.requires_grad)


def test_unidirectional_encoder_has_no_backward_pass() -> None:
    model = small_model("enas", VAEConfig(hidden_size=16, latent_size=4, bidirectional=False))
    assert not hasattr(model.encoder, "gru_backward")
    assert model.encode(sample_archs("enas", 3))[0].shape == (3, 4)


def test_dvae_enas_settings_are_expressible() -> None:
    model = GraphVAE(get_space("enas"))  # defaults are D-VAE's ENAS settings
    cfg = model.config
    assert (cfg.hidden_size, cfg.latent_size, cfg.bidirectional, cfg.beta, cfg.eps_scale) == \
        (501, 56, True, 0.005, 0.01)
    assert model.encoder.gru_forward.hidden_size == 501
    assert model.decoder.edge_source.out_features == 4 * 501  # D-VAE's Linear(2h, 4h) edge MLP


# ------------------------------------------------------------------------------ decoder and masks
@pytest.mark.parametrize("space_name", ["nb201", "enas"])
def test_untrained_decodes_are_valid_by_construction(space_name: str) -> None:
    model = small_model(space_name)
    space = get_space(space_name)
    z = torch.randn(300, SMALL.latent_size, generator=torch.Generator().manual_seed(1))
    decoded = model.decode_raw(z, generator=torch.Generator().manual_seed(2))
    assert all(a is not None and space.is_valid(a) for a in decoded)
    assert len({a.canonical_hash for a in decoded}) > 100  # stochastic, not collapsed


def test_variable_size_decodes_are_dags_with_input_and_output() -> None:
    model = small_model("dag:ops=a,b;max_nodes=7")
    z = torch.randn(200, SMALL.latent_size, generator=torch.Generator().manual_seed(0))
    graphs = model.decoder.generate(z, generator=torch.Generator().manual_seed(0))
    archs = to_architectures(graphs.types, graphs.adj, graphs.num_nodes, model.vocabulary)
    # loose ends joined to the output and an incoming edge for every node: always a valid DAG
    assert all(a is not None for a in archs)
    assert {a.num_nodes for a in archs} != {7}  # the output can come early


def test_type_mask_forbids_types_outside_the_position() -> None:
    model = small_model("enas")
    state = torch.randn(4, SMALL.hidden_size)

    def logits_at(position: int) -> torch.Tensor:
        types = torch.zeros(4, position, dtype=torch.long)
        allowed = model.rules.allowed_types(types, torch.zeros(4, position, position))
        return model.decoder._type_logits(state, allowed)

    vocab = model.vocabulary
    logits = logits_at(1)
    assert torch.isinf(logits[:, vocab.index("input")]).all()
    assert torch.isinf(logits[:, vocab.index("output")]).all()
    assert torch.isfinite(logits[:, vocab.index("conv3x3")]).all()
    assert torch.isinf(logits_at(7)[:, vocab.index("conv3x3")]).all()


@pytest.mark.parametrize("positions", [False, True])
@pytest.mark.parametrize("space_name", ["enas", "dag:ops=a,b;max_nodes=6"])
def test_teacher_forcing_equals_sequential_decoder(space_name: str, positions: bool) -> None:
    """The batched cumulative-sum formulation gives exactly D-VAE's sequential likelihood."""
    torch.manual_seed(0)
    config = VAEConfig(hidden_size=32, latent_size=8, decoder_positions=positions)
    model = small_model(space_name, config).double()
    assert_teacher_forcing_matches(model, sample_archs(space_name, 6, seed=3))


def test_decoder_positions_separate_nodes_that_share_predecessors() -> None:
    """In NAS-Bench-201, the ops on edges 0->1 and 0->2 both follow only the input. Without
    positions their decoder states are equal whenever their ops are, so the types predicted
    for the next two positions cannot differ; with positions they can."""
    space = get_space("nb201")
    cell = space.from_edge_ops(["nor_conv_3x3", "nor_conv_3x3", "none", "none", "none", "none"])
    graphs = dense_graphs([cell], space.vocabulary, space.max_nodes)
    z = torch.randn(1, 8, generator=torch.Generator().manual_seed(0))
    for positions, expect_equal in ((False, True), (True, False)):
        model = small_model("nb201", VAEConfig(hidden_size=32, latent_size=8,
                                               decoder_positions=positions))
        captured = []
        hook = model.decoder.add_vertex.register_forward_hook(lambda m, i, o: captured.append(o))
        with torch.no_grad():
            model.decoder.log_likelihood(z, graphs)
        hook.remove()
        logits = captured[0][0]  # [positions - 1, types]: row v - 1 predicts node v's type
        assert torch.equal(logits[1], logits[2]) is expect_equal


def test_decode_is_deterministic_for_a_seed_and_returns_the_mode() -> None:
    model = small_model("enas")
    z = torch.randn(5, SMALL.latent_size, generator=torch.Generator().manual_seed(0))
    first = model.decode(z, samples=7, seed=11)
    assert first == model.decode(z, samples=7, seed=11)
    assert first != model.decode(z, samples=7, seed=12)
    # the mode: recompute the 7 raw decodes of row 0 with the same generator stream
    raw = model.decode_raw(z.repeat_interleave(7, 0), generator=torch.Generator().manual_seed(11))
    counts: dict[str, int] = {}
    for arch in raw[:7]:
        counts[arch.canonical_hash] = counts.get(arch.canonical_hash, 0) + 1
    assert counts[first[0].canonical_hash] == max(counts.values())


def test_wrong_latent_size_is_a_clear_error() -> None:
    model = small_model("enas")
    with pytest.raises(GraphVAENASError, match="latent vectors must have size 8"):
        model.decode(torch.zeros(2, 5))
    with pytest.raises(GraphVAENASError, match="NaN"):
        model.decode(torch.full((1, 8), float("nan")))


# ------------------------------------------------------------------------------ training
@pytest.mark.slow
def test_short_training_reconstructs_a_small_dataset_exactly() -> None:
    archs = sample_archs("enas", 24, seed=5)
    model = small_model("enas", VAEConfig(hidden_size=64, latent_size=16))
    history = train_vae(model, archs, TrainConfig(epochs=150, batch_size=8, lr=3e-3, seed=0,
                                                  precision="fp32", progress=False))
    assert history[-1]["loss"] < history[0]["loss"] / 5
    mu, _ = model.encode(archs)
    greedy = model.decode(mu, samples=1, stochastic=False)
    assert [a.canonical_hash for a in greedy] == [a.canonical_hash for a in archs]
    assert reconstruction_accuracy(model, archs, encode_times=2, decode_times=2) > 0.8


def test_resume_continues_the_same_run(tmp_path) -> None:
    archs = sample_archs("nb201", 40)
    config = TrainConfig(epochs=4, batch_size=16, lr=1e-3, seed=3, precision="fp32", progress=False)
    straight = small_model("nb201", seed=1)
    train_vae(straight, archs, config)
    ckpt = tmp_path / "run.ckpt"
    interrupted = small_model("nb201", seed=1)
    train_vae(interrupted, archs, TrainConfig(**{**config.__dict__, "epochs": 2}), checkpoint=ckpt)
    resumed = small_model("nb201", seed=99)  # different init: everything must come from the file
    history = train_vae(resumed, archs, config, checkpoint=ckpt, resume=True)
    assert [h["epoch"] for h in history] == [1, 2, 3, 4]
    for (name, a), b in zip(straight.state_dict().items(), resumed.state_dict().values()):
        assert torch.equal(a, b), name


def test_time_budget_counts_across_resumes(tmp_path) -> None:
    archs = sample_archs("nb201", 16)
    ckpt = tmp_path / "run.ckpt"
    config = TrainConfig(epochs=3, batch_size=16, precision="fp32", progress=False)
    history = train_vae(small_model("nb201"), archs, config, checkpoint=ckpt)
    spent = sum(h["seconds"] for h in history)
    budget = TrainConfig(**{**config.__dict__, "epochs": 50, "time_budget_s": spent * 0.99})
    resumed = train_vae(small_model("nb201"), archs, budget, checkpoint=ckpt, resume=True)
    assert len(resumed) == 3  # the budget was already spent before the resume


def test_resume_refuses_a_checkpoint_of_another_model(tmp_path) -> None:
    archs = sample_archs("nb201", 8)
    ckpt = tmp_path / "run.ckpt"
    cfg = TrainConfig(epochs=1, batch_size=8, precision="fp32", progress=False)
    train_vae(small_model("nb201"), archs, cfg, checkpoint=ckpt)
    with pytest.raises(GraphVAENASError, match="another model"):
        train_vae(small_model("nb201", VAEConfig(hidden_size=16, latent_size=8)), archs, cfg,
                  checkpoint=ckpt, resume=True)
    with pytest.raises(GraphVAENASError, match="lr"):
        train_vae(small_model("nb201"), archs, TrainConfig(**{**cfg.__dict__, "lr": 0.5}),
                  checkpoint=ckpt, resume=True)


def test_nan_loss_stops_with_a_clear_error() -> None:
    model = small_model("nb201")
    with torch.no_grad():
        model.decoder.fc_init.weight.fill_(float("nan"))
    with pytest.raises(GraphVAENASError, match="loss became nan"):
        train_vae(model, sample_archs("nb201", 8),
                  TrainConfig(epochs=1, batch_size=4, precision="fp32", progress=False))


def test_empty_training_set_is_a_clear_error() -> None:
    with pytest.raises(GraphVAENASError, match="empty"):
        train_vae(small_model("nb201"), [], TrainConfig(epochs=1, progress=False))


# ------------------------------------------------------------------------------ persistence
def test_save_load_gives_identical_outputs(tmp_path) -> None:
    model = small_model("enas")
    archs = sample_archs("enas", 10)
    path = tmp_path / "m.pt"
    save_model(model, path, extra={"note": 1})
    loaded, extra = load_model(path)
    assert extra == {"note": 1} and loaded.config == model.config
    assert torch.equal(model.encode(archs)[0], loaded.encode(archs)[0])
    z = torch.randn(6, SMALL.latent_size)
    assert model.decode(z, samples=3, seed=4) == loaded.decode(z, samples=3, seed=4)


def test_loading_a_model_of_another_space_or_version_fails(tmp_path) -> None:
    path = tmp_path / "m.pt"
    save_model(small_model("enas"), path)
    with pytest.raises(GraphVAENASError, match="trained on space"):
        load_model(path, space=get_space("nb201"))
    payload = torch.load(path, weights_only=True)
    payload["version"] = 99
    torch.save(payload, path)
    with pytest.raises(GraphVAENASError, match="version 99"):
        load_model(path)
    path.write_bytes(b"not a model")
    with pytest.raises(GraphVAENASError, match="not a readable model file"):
        load_model(path)


# ------------------------------------------------------------------------------ metrics
def test_match_rate_and_generation_stats_on_hand_made_cases() -> None:
    space = get_space("nb201")
    a, b, c = (space.from_edge_ops([op] * 6) for op in ("none", "skip_connect", "nor_conv_1x1"))
    # targets [a, b], 2 decodes each: a hit, a miss, an invalid, a hit -> 2/4
    assert match_rate([a, c, None, b], [a.canonical_hash, b.canonical_hash], 2) == 0.5
    stats = generation_stats([a, a, b, None, c, None], train_hashes=[a.canonical_hash])
    assert stats["validity"] == pytest.approx(4 / 6)
    assert stats["uniqueness"] == pytest.approx(3 / 4)   # a, b, c among 4 valid
    assert stats["novelty"] == pytest.approx(2 / 4)      # b and c are not in training
    assert generation_stats([None], []) == {"validity": 0.0, "uniqueness": 0.0, "novelty": 0.0}
    with pytest.raises(ValueError):
        match_rate([a], [a.canonical_hash], 2)


def test_predictive_performance_on_a_smooth_function() -> None:
    pytest.importorskip("botorch")
    from graphvae_nas.surrogates import predictive_performance

    gen = torch.Generator().manual_seed(0)
    x = torch.rand(260, 3, generator=gen, dtype=torch.float64) * 4 - 2
    y = torch.sin(x[:, 0]) + 0.5 * x[:, 1] ** 2 + 0.05 * torch.randn(260, generator=gen, dtype=torch.float64)
    exact = predictive_performance(x[:200], y[:200], x[200:], y[200:], inducing_points=None)
    sparse = predictive_performance(x[:200], y[:200], x[200:], y[200:], inducing_points=40)
    for score in (exact, sparse):
        assert score.pearson > 0.95 and score.rmse < 0.3
    # a surrogate that ignores x cannot do this: shuffled targets give no correlation
    shuffled = predictive_performance(x[:200], y[:200][torch.randperm(200, generator=gen)],
                                      x[200:], y[200:], inducing_points=None)
    assert shuffled.pearson < 0.5


def test_evaluate_vae_reports_every_metric() -> None:
    pytest.importorskip("botorch")
    from graphvae_nas.datasets import ArchitectureDataset
    from graphvae_nas.vae.evaluate import evaluate_vae

    space = get_space("nb201")
    archs = sample_archs("nb201", 60, seed=2)
    # a target the latent space can carry: how many convolutions the cell has
    convs = [sum(op.startswith("nor_conv") for op in a.ops) for a in archs]
    data = ArchitectureDataset.from_architectures(space, archs, {"convs": convs})
    train, test = data.subset(range(45)), data.subset(range(45, 60))
    model = small_model("nb201")
    train_vae(model, train.archs, TrainConfig(epochs=3, batch_size=15, lr=1e-3, progress=False,
                                              precision="fp32"))
    before_gp: list[dict] = []
    result = evaluate_vae(model, train, test, metric="convs", encode_times=2, decode_times=2,
                          prior_samples=25, precision="fp32", on_generative=before_gp.append)
    assert (result["train"], result["test"]) == (45, 15)
    assert len(before_gp) == 1 and before_gp[0]["rmse"] is None      # handed over before the GP
    assert before_gp[0]["recon_acc"] == result["recon_acc"] and "predictive" not in before_gp[0]["seconds"]
    for key in ("recon_acc", "validity", "uniqueness", "novelty"):
        assert 0.0 <= result[key] <= 1.0
    assert result["validity"] == 1.0
    assert result["rmse"] > 0 and -1.0 <= result["pearson"] <= 1.0
    assert result["gp_train"] == 45
    assert set(result["seconds"]) >= {"reconstruction", "prior", "predictive", "generative_total"}
    subset = evaluate_vae(model, train, test, metric="convs", encode_times=1, decode_times=1,
                          prior_samples=5, precision="fp32", predictive_train=20)
    assert subset["gp_train"] == 20 and subset["pearson"] != result["pearson"]


def test_retain_freed_memory_applies_on_glibc_and_can_be_disabled(monkeypatch) -> None:
    import platform
    import sys

    from graphvae_nas.vae import allocator

    monkeypatch.setattr(allocator, "_applied", False)
    monkeypatch.setenv(allocator.DISABLE_VARIABLE, "1")
    assert allocator.retain_freed_memory() is False
    monkeypatch.delenv(allocator.DISABLE_VARIABLE)
    on_glibc = sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"
    assert allocator.retain_freed_memory() is on_glibc
    assert allocator.retain_freed_memory() is on_glibc   # repeated calls are harmless


def test_restore_best_ends_with_the_lowest_loss_weights_and_survives_resume(tmp_path) -> None:
    archs = sample_archs("nb201", 24)
    config = TrainConfig(epochs=4, batch_size=8, lr=1e-3, seed=0, precision="fp32",
                         progress=False, restore_best=True)
    snapshots: dict[int, dict[str, torch.Tensor]] = {}

    def spoil_after_epoch_2(record) -> None:
        snapshots[record["epoch"]] = {k: v.clone() for k, v in model.state_dict().items()}
        if record["epoch"] == 2:   # a loss spike: back to untrained weights
            model.load_state_dict(small_model("nb201", seed=7).state_dict())

    model = small_model("nb201", seed=1)
    ckpt = tmp_path / "run.ckpt"
    history = train_vae(model, archs, TrainConfig(**{**config.__dict__, "epochs": 3}),
                        checkpoint=ckpt, on_epoch=spoil_after_epoch_2)
    losses = [h["loss"] for h in history]
    assert losses.index(min(losses)) == 1 and losses[2] > losses[1]
    for name, value in model.state_dict().items():
        assert torch.equal(value, snapshots[2][name]), name
    resumed = small_model("nb201", seed=99)

    def snapshot(record) -> None:
        snapshots[record["epoch"]] = {k: v.clone() for k, v in resumed.state_dict().items()}

    history = train_vae(resumed, archs, config, checkpoint=ckpt, resume=True, on_epoch=snapshot)
    assert [h["epoch"] for h in history] == [1, 2, 3, 4]
    losses = [h["loss"] for h in history]
    best_epoch = losses.index(min(losses)) + 1   # epoch 2, or epoch 4 if it beat it
    for name, value in resumed.state_dict().items():
        assert torch.equal(value, snapshots[best_epoch][name]), name
    plain = small_model("nb201", seed=1)
    train_vae(plain, archs, TrainConfig(**{**config.__dict__, "epochs": 1, "restore_best": False}),
              checkpoint=tmp_path / "plain.ckpt")
    assert read_model_file(tmp_path / "plain.ckpt")["train"]["best"] is None


def test_comparison_report_lists_both_rows_and_the_targets_met() -> None:
    from graphvae_nas.vae.evaluate import comparison_report

    published = {"recon_acc": 0.9996, "validity": 1.0, "uniqueness": 0.3726, "novelty": 1.0,
                 "rmse": 0.384, "pearson": 0.92}
    ours = {**published, "recon_acc": 0.5, "rmse": 0.30}
    lines = comparison_report(published, ours, {"recon_acc": (">=", 0.999), "rmse": ("<=", 0.38)})
    assert lines[1].startswith("D-VAE (published)") and "99.96%" in lines[1]
    assert lines[2].startswith("graphvae_nas (ours)") and "50.00%" in lines[2]
    assert lines[3] == "targets met: recon_acc NO, rmse yes"


def test_a_cosine_schedule_falls_to_zero_and_resumes_exactly(tmp_path) -> None:
    """The cosine learning rate starts at lr, ends near 0 after the planned epochs, and a run
    stopped after its second epoch continues from the checkpoint to the same weights; a resume
    with another plan is refused."""
    archs = sample_archs("nb201", 40)
    config = TrainConfig(epochs=4, batch_size=16, lr=1e-3, seed=3, precision="fp32",
                         progress=False, schedule="cosine")
    straight = small_model("nb201", seed=1)
    history = train_vae(straight, archs, config)
    lrs = [h["lr"] for h in history]
    assert lrs == sorted(lrs, reverse=True) and lrs[0] < 1e-3 and lrs[-1] < 1e-9
    ckpt = tmp_path / "run.ckpt"

    def stop_after_two(record) -> None:
        if record["epoch"] == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train_vae(small_model("nb201", seed=1), archs, config, checkpoint=ckpt, on_epoch=stop_after_two)
    resumed = small_model("nb201", seed=99)
    assert [h["epoch"] for h in train_vae(resumed, archs, config, checkpoint=ckpt, resume=True)] == [1, 2, 3, 4]
    for (name, a), b in zip(straight.state_dict().items(), resumed.state_dict().values()):
        assert torch.equal(a, b), name
    with pytest.raises(GraphVAENASError, match="epochs"):
        train_vae(small_model("nb201"), archs, TrainConfig(**{**config.__dict__, "epochs": 8}),
                  checkpoint=ckpt, resume=True)
    with pytest.raises(GraphVAENASError, match="schedule"):
        train_vae(small_model("nb201"), archs, TrainConfig(**{**config.__dict__, "schedule": "plateau"}),
                  checkpoint=ckpt, resume=True)


# ------------------------------------------------------------------------------ predictor head
def conv_share(archs: list[Architecture]) -> torch.Tensor:
    """A score each cell determines: its share of 3x3 convolutions, standardised."""
    share = torch.tensor([sum(op == "nor_conv_3x3" for op in a.ops) / len(a.ops) for a in archs])
    return (share - share.mean()) / share.std()


def test_a_predictor_head_orders_the_latent_space_by_the_score(tmp_path) -> None:
    both = list({a.canonical_hash: a for a in sample_archs("nb201", 200, seed=2)}.values())
    archs, held_out = both[:96], both[96:192]
    scores = conv_share(both)
    targets, held_out_targets = scores[:96], scores[96:192]
    config = TrainConfig(epochs=30, batch_size=16, lr=3e-3, seed=0, precision="fp32",
                         progress=False)
    fits = {}
    for weight in (0.0, 1.0):
        model = small_model("nb201", VAEConfig(hidden_size=32, latent_size=8,
                                               predictor_weight=weight))
        history = train_vae(model, archs, config, targets=targets if weight else None)
        mu = model.encode(archs)[0].detach().double()
        # how much of the held-out cells' score a linear function of the latent means, fitted
        # on the training cells, explains (R^2)
        def design(means: torch.Tensor) -> torch.Tensor:
            return torch.cat([means, torch.ones(len(means), 1, dtype=torch.float64)], 1)
        solution = torch.linalg.lstsq(design(mu), targets.double().unsqueeze(1)).solution
        held_out_mu = model.encode(held_out)[0].detach().double()
        residual = held_out_targets.double() - (design(held_out_mu) @ solution).squeeze(1)
        fits[weight] = 1 - residual.pow(2).mean() / held_out_targets.double().var()
        if weight:
            assert history[-1]["predictor_mse"] < 0.5 * history[0]["predictor_mse"]
            path = tmp_path / "head.pt"
            save_model(model, path)
            loaded, _ = load_model(path)
            assert loaded.predictor is not None
            assert torch.equal(loaded.predictor(mu.float()), model.predictor(mu.float()))
    # the head leaves less than half the unexplained variance of D-VAE's unsupervised latent
    assert fits[1.0] > 0.95 and 1 - fits[1.0] < 0.5 * (1 - fits[0.0])


def test_predictor_targets_are_checked() -> None:
    archs = sample_archs("nb201", 8)
    config = TrainConfig(epochs=1, batch_size=4, precision="fp32", progress=False)
    # without targets (a search's retraining) the head is not trained
    model = small_model("nb201", VAEConfig(hidden_size=16, latent_size=4, predictor_weight=1.0))
    before = [p.detach().clone() for p in model.predictor.parameters()]
    history = train_vae(model, archs, config)
    assert "predictor_mse" not in history[-1]
    assert all(torch.equal(a, b) for a, b in zip(before, model.predictor.parameters()))
    with pytest.raises(GraphVAENASError, match="no predictor head"):
        train_vae(small_model("nb201"), archs, config, targets=[0.0] * 8)
    head = VAEConfig(hidden_size=16, latent_size=4, predictor_weight=1.0)
    with pytest.raises(GraphVAENASError, match="3 targets for 8"):
        train_vae(small_model("nb201", head), archs, config, targets=[0.0] * 3)
    with pytest.raises(GraphVAENASError, match="NaN"):
        train_vae(small_model("nb201", head), archs, config, targets=[float("nan")] * 8)
    with pytest.raises(ValueError, match="non-negative"):
        VAEConfig(predictor_weight=-1.0)


def test_a_checkpoint_from_before_the_predictor_head_resumes(tmp_path) -> None:
    from graphvae_nas.vae.persistence import save_payload

    archs = sample_archs("nb201", 16)
    ckpt = tmp_path / "run.ckpt"
    config = TrainConfig(epochs=2, batch_size=8, precision="fp32", progress=False)
    train_vae(small_model("nb201"), archs, TrainConfig(**{**config.__dict__, "epochs": 1}),
              checkpoint=ckpt)
    payload = read_model_file(ckpt)
    del payload["config"]["predictor_weight"]   # as written before the field existed
    save_payload(payload, ckpt)
    history = train_vae(small_model("nb201"), archs, config, checkpoint=ckpt, resume=True)
    assert [h["epoch"] for h in history] == [1, 2]
    with pytest.raises(GraphVAENASError, match="another model"):
        head = VAEConfig(hidden_size=32, latent_size=8, predictor_weight=1.0)
        train_vae(small_model("nb201", head), archs, config, checkpoint=ckpt, resume=True,
                  targets=[0.0] * 16)
