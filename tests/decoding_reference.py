"""Plain reference implementations the batched decoder is checked against (test helpers).

* :func:`legacy_generate`: the decoder's generation loop as it was before decoding rules,
  reading the static per-position masks of a space's ``generation_constraints()`` directly.
  Spaces with static rules must decode exactly as it does (same seed, same model).
* :func:`sequential_log_likelihood`: D-VAE's decoder likelihood of one graph, one edge at a
  time, asking the space's rules at every step as the decoder does;
  :func:`assert_teacher_forcing_matches` checks the batched likelihood against it.
"""
from __future__ import annotations

import pytest
import torch
from torch.nn import functional as F

from graphvae_nas import Architecture
from graphvae_nas.spaces.constraints import FORCED, FREE, GenerationConstraints
from graphvae_nas.vae.batch import PAD, DenseGraphs
from graphvae_nas.vae.encoders import one_hot_types


@torch.no_grad()
def legacy_generate(decoder, constraints: GenerationConstraints, z: torch.Tensor, *,
                    stochastic: bool = True, generator: torch.Generator | None = None) -> DenseGraphs:
    """The pre-rules ``DagDecoder.generate`` (commit 76063be), with its masks from ``constraints``."""
    type_mask = torch.from_numpy(constraints.node_types.copy())
    rule = constraints.edges
    n = constraints.max_nodes
    free_sources = [[u for u in range(v - 1, -1, -1) if rule[u, v] == FREE] for v in range(n)]
    forced_sources = [[u for u in range(v) if rule[u, v] == FORCED] for v in range(n)]
    output_type = constraints.output_index
    count = z.shape[0]
    device = z.device
    types = torch.full((count, n), PAD, dtype=torch.long, device=device)
    adj = torch.zeros(count, n, n, device=device, dtype=z.dtype)
    sizes = torch.full((count,), n, dtype=torch.long, device=device)
    done = torch.zeros(count, dtype=torch.bool, device=device)
    types[:, 0] = constraints.vocabulary.index("input")
    x0 = decoder._gru_input(F.one_hot(types[:, 0], decoder.num_types).to(z.dtype), 0)
    state = decoder.gru(x0, torch.tanh(decoder.fc_init(z)))
    states, messages, sources = [state], [decoder.message(state, 0)], [decoder.edge_source(state)]
    for v in range(1, n):
        logits = decoder._full(decoder.add_vertex(states[-1]).masked_fill(~type_mask[v], float("-inf")))
        if stochastic:
            chosen = torch.multinomial(F.softmax(logits, -1), 1, generator=generator).squeeze(1)
        else:
            chosen = logits.argmax(-1)
        live = ~done
        types[:, v] = torch.where(live, chosen, torch.full_like(chosen, PAD))
        xv = decoder._gru_input(one_hot_types(types[:, v], decoder.num_types, z.dtype), v)
        agg = torch.zeros_like(state)
        for u in forced_sources[v]:
            adj[:, u, v] = live.float()
        if forced_sources[v]:
            agg = torch.bmm(adj[:, :v, v].unsqueeze(1), torch.stack(messages, 1)).squeeze(1)
        state = decoder.gru(xv, agg)
        best_logit = torch.full((count,), float("-inf"), device=device)
        best_source = torch.zeros(count, dtype=torch.long, device=device)
        for u in free_sources[v]:
            logit = decoder._full(decoder._edge_logits(sources[u], state))
            if stochastic:
                edge = torch.rand(logit.shape, generator=generator, device=device) < torch.sigmoid(logit)
            else:
                edge = logit > 0
            edge = edge & live
            better = logit > best_logit
            best_logit = torch.where(better, logit, best_logit)
            best_source = torch.where(better, torch.full_like(best_source, u), best_source)
            if edge.any():
                adj[:, u, v] = edge.float()
                agg = agg + edge.float().unsqueeze(1) * messages[u]
                state = decoder.gru(xv, agg)
        if constraints.require_predecessor and free_sources[v]:
            orphan = live & (adj[:, :v, v].sum(1) == 0)
            if orphan.any():
                rows = orphan.nonzero().squeeze(1)
                adj[rows, best_source[rows], v] = 1.0
                agg = torch.bmm(adj[:, :v, v].unsqueeze(1), torch.stack(messages, 1)).squeeze(1)
                state = decoder.gru(xv, agg)
        ended = live & (types[:, v] == output_type)
        if constraints.connect_loose_ends and ended.any():
            loose = (adj[:, :v, :v + 1].sum(2) == 0) & ended.unsqueeze(1)
            adj[:, :v, v] = torch.maximum(adj[:, :v, v], loose.float())
        sizes = torch.where(ended, torch.full_like(sizes, v + 1), sizes)
        done = done | ended
        states.append(state)
        messages.append(decoder.message(state, v))
        sources.append(decoder.edge_source(state))
        if bool(done.all()):
            break
    return DenseGraphs(types, adj, sizes)


def sequential_log_likelihood(decoder, z: torch.Tensor, arch: Architecture, vocab) -> float:
    """D-VAE's decoder likelihood written plainly: one graph, one edge at a time, the new
    node's state recomputed after every edge decision; the type mask and the free edges of
    each step come from the decoder's rules given the true partial graph."""
    rules = decoder.rules
    types = [vocab.index(op) for op in arch.ops]
    edges = set(arch.edges)
    n = arch.num_nodes
    types_t = torch.tensor([types])
    adj_t = torch.zeros(1, n, n)
    for s, d in edges:
        adj_t[0, s, d] = 1.0
    x = decoder._gru_input(F.one_hot(torch.tensor(types), len(vocab)).to(z.dtype))
    states = [decoder.gru(x[:1], torch.tanh(decoder.fc_init(z[None])))]
    total = 0.0
    for v in range(1, n):
        allowed = rules.allowed_types(types_t[:, :v], adj_t[:, :v, :v])
        logp = F.log_softmax(decoder._type_logits(states[-1], allowed), -1)
        total += logp[0, types[v]].item()
        rule = rules.predecessors(types_t[:, :v + 1], adj_t[:, :v, :v])
        free = (rule.free & ~rule.forced)[0]
        cap = None if rule.max_count is None else int(rule.max_count)
        preds: list[int] = []

        def state_with(chosen: list[int]) -> torch.Tensor:
            if not chosen:
                agg = torch.zeros(1, states[0].shape[1], dtype=z.dtype)
            else:
                agg = sum(decoder.message(states[u], u) for u in chosen)
            return decoder.gru(x[v:v + 1], agg)

        drawn = sum((u, v) in edges for u in range(v) if rule.forced[0, u])
        for u in range(v - 1, -1, -1):
            if free[u] and (cap is None or drawn < cap):
                # free: scored with the state given the edges decided so far
                logit = decoder._edge_logits(decoder.edge_source(states[u]), state_with(preds))
                total += F.logsigmoid(logit if (u, v) in edges else -logit).item()
                drawn += (u, v) in edges
            if (u, v) in edges:
                preds.append(u)
        states.append(state_with(preds))
    return total


def assert_teacher_forcing_matches(model, archs: list[Architecture]) -> None:
    """The batched teacher-forced likelihood of ``archs`` (``model`` in float64, at seeded
    random latents) equals the sum of their :func:`sequential_log_likelihood`."""
    graphs = model.batch(archs)
    graphs.adj = graphs.adj.double()
    z = torch.randn(len(archs), model.config.latent_size, dtype=torch.float64)
    with torch.no_grad():
        type_ll, edge_ll = model.decoder.log_likelihood(z, graphs)
        expected = sum(sequential_log_likelihood(model.decoder, z[i], a, model.vocabulary)
                       for i, a in enumerate(archs))
    assert (type_ll + edge_ll).item() == pytest.approx(expected, rel=1e-9, abs=1e-9)
