"""D-VAE's autoregressive DAG decoder, batched over graphs and constrained by the space.

From ``z`` the decoder adds one node at a time: its type from the state of the previous node,
then, for each earlier node ``u`` from the newest back to the input, whether the edge
``u -> v`` exists, from ``u``'s state and the current state of ``v``. The state of ``v`` is a
GRU cell of its type fed the gated sum of the messages of the predecessors chosen so far, so
every edge decision sees the earlier ones (D-VAE's semantics).

Teacher forcing computes exactly those states without a loop over edges: the state before
deciding ``u -> v`` is the GRU applied to the reverse cumulative sum of the true
predecessors' messages from ``u + 1`` on, so one batched GRU call per position gives all of
them. Only edges that the space leaves free are scored; forced and forbidden edges are fixed
(:class:`~graphvae_nas.spaces.constraints.GenerationConstraints`).
"""
from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from graphvae_nas.spaces.constraints import FORCED, FREE, GenerationConstraints
from graphvae_nas.vae.batch import PAD, DenseGraphs
from graphvae_nas.vae.config import VAEConfig
from graphvae_nas.vae.encoders import GatedMessage, gru_step, one_hot_types
from graphvae_nas.vae.recurrence import dag_gru_recurrence


class DagDecoder(nn.Module):
    """Generates node types and edges autoregressively (see module docstring)."""

    def __init__(self, constraints: GenerationConstraints, config: VAEConfig) -> None:
        super().__init__()
        hidden = config.hidden_size
        self.num_types = len(constraints.vocabulary)
        self.max_nodes = constraints.max_nodes
        self.input_type = constraints.vocabulary.index("input")
        self.output_type = constraints.output_index
        self.connect_loose_ends = constraints.connect_loose_ends
        self.require_predecessor = constraints.require_predecessor
        self.register_buffer("type_mask", torch.from_numpy(constraints.node_types.copy()))
        self.edge_rule = constraints.edges.copy()
        # per target position: free sources, newest first (the order edges are decided in)
        self.free_sources = [[u for u in range(v - 1, -1, -1) if self.edge_rule[u, v] == FREE]
                             for v in range(self.max_nodes)]
        # the partial sums each position's states need: all predecessors (the node state), and
        # for each free source u those from u + 1 on (v's state before deciding u -> v)
        self.suffix_starts = [[0] + [u + 1 for u in sources] for sources in self.free_sources]
        self.forced_sources = [[u for u in range(v) if self.edge_rule[u, v] == FORCED]
                               for v in range(self.max_nodes)]
        self.positions = config.decoder_positions
        self.fc_init = nn.Linear(config.latent_size, hidden)
        self.gru = nn.GRUCell(self.num_types + (self.max_nodes if self.positions else 0), hidden)
        self.message = GatedMessage(hidden, self.max_nodes, config.vertex_id)
        self.add_vertex = nn.Sequential(nn.Linear(hidden, 2 * hidden), nn.ReLU(),
                                        nn.Linear(2 * hidden, self.num_types))
        # D-VAE's edge MLP Linear(2h, 4h) on [h_u; h_v], split into its two halves
        self.edge_source = nn.Linear(hidden, 4 * hidden)
        self.edge_target = nn.Linear(hidden, 4 * hidden, bias=False)
        self.edge_out = nn.Linear(4 * hidden, 1)

    def _gru_input(self, one_hot: torch.Tensor, position: int | None = None) -> torch.Tensor:
        """The GRU input of nodes: their one-hot type, and with ``decoder_positions`` their
        one-hot position (``one_hot`` is ``[..., N, types]`` for all positions, or one position)."""
        if not self.positions:
            return one_hot
        eye = torch.eye(self.max_nodes, dtype=one_hot.dtype, device=one_hot.device)
        if position is None:
            pos = eye[: one_hot.shape[-2]].expand(*one_hot.shape[:-1], self.max_nodes)
        else:
            pos = eye[position].expand(*one_hot.shape[:-1], self.max_nodes)
        return torch.cat([one_hot, pos], dim=-1)

    @staticmethod
    def _full(t: torch.Tensor) -> torch.Tensor:
        """Upcast half-precision activations (autocast) before log-probabilities."""
        return t.float() if t.dtype in (torch.bfloat16, torch.float16) else t

    def _edge_logits(self, source_proj: torch.Tensor, target_state: torch.Tensor) -> torch.Tensor:
        return self.edge_out(F.relu(source_proj + self.edge_target(target_state))).squeeze(-1)

    def _type_logits(self, state: torch.Tensor, position: int) -> torch.Tensor:
        logits = self.add_vertex(state)
        return logits.masked_fill(~self.type_mask[position], float("-inf"))

    # ------------------------------------------------------------------ training
    def log_likelihood(self, z: torch.Tensor, graphs: DenseGraphs) -> tuple[torch.Tensor, torch.Tensor]:
        """Summed log-likelihood of the node types and of the free edges of ``graphs``.

        Only the recurrence (node states and their messages) runs position by position; the
        type and edge heads, which feed nothing back, run once over all positions at the end.
        """
        n = graphs.types.shape[1]
        x = self._gru_input(one_hot_types(graphs.types, self.num_types, z.dtype))
        input_side = F.linear(x, self.gru.weight_ih, self.gru.bias_ih)
        weight_hh = self.gru.weight_hh.to(input_side.dtype)     # cast once (autocast) for both uses
        initial = torch.tanh(self.fc_init(z))
        first = gru_step(input_side[:, 0], F.linear(initial, weight_hh, self.gru.bias_hh), initial)
        # edge_states: per free pair (u, v), v's state before deciding u -> v
        stacked, edge_states = dag_gru_recurrence(
            first, input_side, graphs.adj, weight_hh, self.gru.bias_hh,
            self.message.fused_weight(), self.message.fused_offsets(range(n)),
            self.suffix_starts[:n])

        logits = self.add_vertex(stacked[:, :-1])                       # type of v from v - 1
        logits = self._full(logits.masked_fill(~self.type_mask[1:n], float("-inf")))
        true_type = graphs.types[:, 1:].clamp(min=0)
        picked = F.log_softmax(logits, -1).gather(2, true_type.unsqueeze(-1)).squeeze(-1)
        active = graphs.num_nodes.unsqueeze(1) > torch.arange(1, n, device=z.device)
        type_ll = torch.where(active, picked, torch.zeros_like(picked)).sum()

        pairs = self._free_pairs(n)
        if not pairs[0]:
            return type_ll, z.new_zeros(())
        sources, targets = pairs
        src = self.edge_source(stacked[:, :-1]).index_select(
            1, torch.tensor(sources, device=z.device))                  # [count, P, 4h]
        edge_logits = self._full(self._edge_logits(src, edge_states))
        truth = graphs.adj[:, sources, targets].to(edge_logits.dtype)
        ll = -F.binary_cross_entropy_with_logits(edge_logits, truth, reduction="none")
        live = graphs.num_nodes.unsqueeze(1) > torch.tensor(targets, device=z.device)
        edge_ll = torch.where(live, ll, torch.zeros_like(ll)).sum()
        return type_ll, edge_ll

    def _free_pairs(self, n: int) -> tuple[list[int], list[int]]:
        """Sources and targets of the free edges among the first ``n`` positions, in the order
        :meth:`log_likelihood` collects their states."""
        sources = [u for v in range(1, n) for u in self.free_sources[v]]
        targets = [v for v in range(1, n) for _ in self.free_sources[v]]
        return sources, targets

    # ------------------------------------------------------------------ generation
    @torch.no_grad()
    def generate(self, z: torch.Tensor, *, stochastic: bool = True,
                 generator: torch.Generator | None = None) -> DenseGraphs:
        """Decode every row of ``z`` into a padded graph (types, adjacency, node count)."""
        count = z.shape[0]
        n = self.max_nodes
        device = z.device
        types = torch.full((count, n), PAD, dtype=torch.long, device=device)
        adj = torch.zeros(count, n, n, device=device, dtype=z.dtype)
        sizes = torch.full((count,), n, dtype=torch.long, device=device)
        done = torch.zeros(count, dtype=torch.bool, device=device)
        types[:, 0] = self.input_type
        x0 = self._gru_input(F.one_hot(types[:, 0], self.num_types).to(z.dtype), 0)
        state = self.gru(x0, torch.tanh(self.fc_init(z)))
        states, messages, sources = [state], [self.message(state, 0)], [self.edge_source(state)]
        for v in range(1, n):
            logits = self._full(self._type_logits(states[-1], v))
            if stochastic:
                chosen = torch.multinomial(F.softmax(logits, -1), 1, generator=generator).squeeze(1)
            else:
                chosen = logits.argmax(-1)
            live = ~done
            types[:, v] = torch.where(live, chosen, torch.full_like(chosen, PAD))
            xv = self._gru_input(one_hot_types(types[:, v], self.num_types, z.dtype), v)
            agg = torch.zeros_like(state)
            for u in self.forced_sources[v]:
                adj[:, u, v] = live.float()
            if self.forced_sources[v]:
                agg = torch.bmm(adj[:, :v, v].unsqueeze(1), torch.stack(messages, 1)).squeeze(1)
            state = self.gru(xv, agg)
            best_logit = torch.full((count,), float("-inf"), device=device)
            best_source = torch.zeros(count, dtype=torch.long, device=device)
            for u in self.free_sources[v]:
                logit = self._full(self._edge_logits(sources[u], state))
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
                    state = self.gru(xv, agg)
            if self.require_predecessor and self.free_sources[v]:
                orphan = live & (adj[:, :v, v].sum(1) == 0)
                if orphan.any():
                    rows = orphan.nonzero().squeeze(1)
                    adj[rows, best_source[rows], v] = 1.0
                    agg = torch.bmm(adj[:, :v, v].unsqueeze(1), torch.stack(messages, 1)).squeeze(1)
                    state = self.gru(xv, agg)
            ended = live & (types[:, v] == self.output_type)
            if self.connect_loose_ends and ended.any():
                loose = (adj[:, :v, :v + 1].sum(2) == 0) & ended.unsqueeze(1)
                adj[:, :v, v] = torch.maximum(adj[:, :v, v], loose.float())
            sizes = torch.where(ended, torch.full_like(sizes, v + 1), sizes)
            done = done | ended
            states.append(state)
            messages.append(self.message(state, v))
            sources.append(self.edge_source(state))
            if bool(done.all()):
                break
        return DenseGraphs(types, adj, sizes)

