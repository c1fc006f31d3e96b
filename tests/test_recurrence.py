"""The DAG recurrence's hand-written backward against autograd, and the encoder against a
graph-by-graph reference of D-VAE's message passing."""
from __future__ import annotations

import random

import pytest
import torch

from graphvae_nas.spaces import get_space
from graphvae_nas.vae import GraphVAE, VAEConfig
from graphvae_nas.vae.encoders import gru_step
from graphvae_nas.vae.recurrence import dag_gru_recurrence



def autograd_recurrence(first, input_side, adj, weight_hh, bias_hh, message_weight,
                        message_offsets, suffix_starts):
    """The recurrence written plainly (one GRU call per state), differentiated by autograd."""
    count, n, _ = input_side.shape
    states, messages, extra = [first], [], []
    for v in range(1, n):
        gate, mapped = (states[-1] @ message_weight.t() + message_offsets[v - 1]).chunk(2, -1)
        messages.append(torch.sigmoid(gate) * mapped)
        stacked = torch.stack(messages, 1)
        outputs = []
        for start in suffix_starts[v]:
            weights = adj[:, :v, v] * (torch.arange(v) >= start).to(adj.dtype)
            agg = torch.einsum("bu,buh->bh", weights, stacked)
            outputs.append(gru_step(input_side[:, v], agg @ weight_hh.t() + bias_hh, agg))
        states.append(outputs[0])
        extra += outputs[1:]
    extra_states = torch.stack(extra, 1) if extra else first.new_zeros(count, 0, first.shape[1])
    return torch.stack(states, 1), extra_states


def random_inputs(count: int = 3, n: int = 6, h: int = 4, seed: int = 0):
    gen = torch.Generator().manual_seed(seed)

    def param(*shape):
        return torch.randn(*shape, generator=gen, dtype=torch.float64).requires_grad_()

    adj = torch.triu((torch.rand(count, n, n, generator=gen) < 0.6).double(), 1)
    return [param(count, h), param(count, n, 3 * h), adj, param(3 * h, h), param(3 * h),
            param(2 * h, h), param(n, 2 * h)]


NODE_STATES_ONLY = [[0]] * 6
DECODER_LIKE = [[0]] + [[0] + [u + 1 for u in range(v - 2, -1, -1)] for v in range(1, 6)]


@pytest.mark.parametrize("starts", [NODE_STATES_ONLY, DECODER_LIKE], ids=["push", "pull"])
def test_recurrence_matches_autograd_values_and_gradients(starts) -> None:
    inputs = random_inputs()
    states, extra = dag_gru_recurrence(*inputs, starts)
    want_states, want_extra = autograd_recurrence(*inputs, starts)
    assert extra.shape == want_extra.shape == (3, sum(len(s) - 1 for s in starts[1:]), 4)
    torch.testing.assert_close(states, want_states, rtol=0, atol=1e-12)
    torch.testing.assert_close(extra, want_extra, rtol=0, atol=1e-12)
    gen = torch.Generator().manual_seed(1)
    d_states = torch.randn(states.shape, generator=gen, dtype=torch.float64)
    d_extra = torch.randn(extra.shape, generator=gen, dtype=torch.float64)
    differentiable = [t for t in inputs if t.requires_grad]
    got = torch.autograd.grad((states * d_states).sum() + (extra * d_extra).sum(), differentiable)
    want = torch.autograd.grad((want_states * d_states).sum() + (want_extra * d_extra).sum(),
                               differentiable)
    for g, w in zip(got, want, strict=True):
        torch.testing.assert_close(g, w, rtol=0, atol=1e-11)


def test_recurrence_passes_gradcheck() -> None:
    inputs = random_inputs(count=2, n=4, h=3, seed=2)
    starts = DECODER_LIKE[:4]
    assert torch.autograd.gradcheck(lambda *a: dag_gru_recurrence(*a, starts), inputs)


def test_recurrence_computes_in_the_autocast_dtype() -> None:
    inputs = [t.detach().float() for t in random_inputs(count=4, n=5, h=8)]
    for index in (3, 5):   # weights of a trained-like scale
        inputs[index] = inputs[index] / 4
    want, _ = dag_gru_recurrence(*inputs)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        side = inputs[1].to(torch.bfloat16)   # as a linear layer under autocast gives it
        states, _ = dag_gru_recurrence(inputs[0], side, *inputs[2:])
    assert states.dtype == torch.bfloat16
    torch.testing.assert_close(states.float(), want, rtol=0, atol=0.05)


def test_recurrence_rejects_starts_that_skip_the_node_state() -> None:
    with pytest.raises(ValueError, match="starting with 0"):
        dag_gru_recurrence(*random_inputs(), [[0], [1]] + [[0]] * 4)


def reference_encoding(encoder, arch, vocab) -> tuple[torch.Tensor, torch.Tensor]:
    """D-VAE's encoder on one graph: nodes in topological order, each a GRU cell fed the sum
    of its predecessors' gated messages; then the same over the reversed graph."""
    n = arch.num_nodes
    preds, succs = arch.predecessors(), arch.successors()
    x = torch.eye(len(vocab), dtype=torch.float64)[[vocab.index(op) for op in arch.ops]]

    def run(order, sources, gru, message):
        states = {}
        for v in order:   # messages carry the position terms of their sender's position
            agg = sum((message(states[u], u) for u in sources[v]),
                      torch.zeros(gru.hidden_size, dtype=x.dtype))
            states[v] = gru(x[v][None], agg[None])[0]
        return states[order[-1]]

    forward = run(range(n), preds, encoder.gru_forward, encoder.msg_forward)
    backward = run(range(n - 1, -1, -1), succs, encoder.gru_backward, encoder.msg_backward)
    hg = encoder.unify(torch.cat([forward, backward]))
    return encoder.fc_mu(hg), encoder.fc_logvar(hg)


@pytest.mark.parametrize("space_name", ["enas", "nb101"])
def test_encoder_equals_graph_by_graph_message_passing(space_name: str) -> None:
    torch.manual_seed(0)
    model = GraphVAE(get_space(space_name), VAEConfig(hidden_size=16, latent_size=4)).double()
    rng = random.Random(0)
    archs = [model.space.sample(rng) for _ in range(6)]
    graphs = model.batch(archs)
    graphs = type(graphs)(graphs.types, graphs.adj.double(), graphs.num_nodes)
    mu, logvar = model.encode(graphs)
    for i, arch in enumerate(archs):
        want_mu, want_logvar = reference_encoding(model.encoder, arch, model.vocabulary)
        torch.testing.assert_close(mu[i], want_mu, rtol=0, atol=1e-10)
        torch.testing.assert_close(logvar[i], want_logvar, rtol=0, atol=1e-10)
