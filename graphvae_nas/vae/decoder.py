"""D-VAE's autoregressive DAG decoder, batched over graphs; the space's rules say what is allowed.

From ``z`` the decoder adds one node at a time: its type from the state of the previous node,
then, for each earlier node ``u`` from the newest back to the input, whether the edge
``u -> v`` exists, from ``u``'s state and the current state of ``v``. The state of ``v`` is a
GRU cell of its type fed the gated sum of the messages of the predecessors chosen so far, so
every edge decision sees the earlier ones (D-VAE's semantics).

Teacher forcing computes exactly those states without a loop over edges: the state before
deciding ``u -> v`` is the GRU applied to the reverse cumulative sum of the true
predecessors' messages from ``u + 1`` on, so one batched GRU call per position gives all of
them.

At every step the decoder asks the space's
:class:`~graphvae_nas.spaces.rules.DecodingRules` which types the next node may take and which
earlier nodes must, may or must not feed it, and applies the answers (masks, counts, top-ups,
closing edges); it never decides validity itself. Only the edges the rules leave free are
scored, in decoding and in the teacher-forced likelihood.
"""
from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from graphvae_nas.errors import GraphVAENASError
from graphvae_nas.spaces.rules import DecodingRules, PredecessorRule
from graphvae_nas.vae.batch import PAD, DenseGraphs
from graphvae_nas.vae.config import VAEConfig
from graphvae_nas.vae.encoders import GatedMessage, gru_step, one_hot_types
from graphvae_nas.vae.recurrence import dag_gru_recurrence


class DagDecoder(nn.Module):
    """Generates node types and edges autoregressively (see module docstring)."""

    def __init__(self, rules: DecodingRules, config: VAEConfig) -> None:
        super().__init__()
        hidden = config.hidden_size
        self.rules = rules
        self.num_types = len(rules.vocabulary)
        self.max_nodes = rules.max_nodes
        self.input_type = rules.input_type
        self.output_type = rules.output_type
        candidates = rules.candidate_edges
        # per target position: sources the rules may leave free, newest first (the order edges
        # are decided in)
        self.free_sources = [[u for u in range(v - 1, -1, -1) if candidates[u, v]]
                             for v in range(self.max_nodes)]
        # the partial sums each position's states need: all predecessors (the node state), and
        # for each free source u those from u + 1 on (v's state before deciding u -> v)
        self.suffix_starts = [[0] + [u + 1 for u in sources] for sources in self.free_sources]
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

    def _type_logits(self, state: torch.Tensor, allowed: torch.Tensor) -> torch.Tensor:
        """Type scores with the types the rules forbid (``allowed`` False) set to -inf."""
        return self.add_vertex(state).masked_fill(~allowed, float("-inf"))

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        # models saved before decoding rules carry the static type mask as a buffer; the
        # rules now come from the space
        state_dict.pop(prefix + "type_mask", None)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

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

        allowed = self.rules.teacher_type_masks(graphs.types, graphs.adj)
        allowed = allowed | ~allowed.any(-1, keepdim=True)  # no NaN on padding past an end
        logits = self.add_vertex(stacked[:, :-1])                       # type of v from v - 1
        logits = self._full(logits.masked_fill(~allowed, float("-inf")))
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
        decided = self.rules.teacher_edge_masks(graphs.types, graphs.adj)
        if decided is not None:
            live = live & decided[:, sources, targets]
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
        rules = self.rules
        types = torch.full((count, n), PAD, dtype=torch.long, device=device)
        adj = torch.zeros(count, n, n, device=device, dtype=z.dtype)
        sizes = torch.full((count,), n, dtype=torch.long, device=device)
        done = torch.zeros(count, dtype=torch.bool, device=device)
        types[:, 0] = self.input_type
        x0 = self._gru_input(F.one_hot(types[:, 0], self.num_types).to(z.dtype), 0)
        state = self.gru(x0, torch.tanh(self.fc_init(z)))
        states, messages, sources = [state], [self.message(state, 0)], [self.edge_source(state)]
        for v in range(1, n):
            live = ~done
            allowed = self._usable_types(rules.allowed_types(types[:, :v], adj[:, :v, :v]), live, v)
            logits = self._full(self._type_logits(states[-1], allowed))
            if stochastic:
                chosen = torch.multinomial(F.softmax(logits, -1), 1, generator=generator).squeeze(1)
            else:
                chosen = logits.argmax(-1)
            types[:, v] = torch.where(live, chosen, torch.full_like(chosen, PAD))
            xv = self._gru_input(one_hot_types(types[:, v], self.num_types, z.dtype), v)
            rule = rules.predecessors(types[:, :v + 1], adj[:, :v, :v])
            forced = rule.forced & live.unsqueeze(1)
            free = rule.free & ~rule.forced
            column = adj[:, :v, v]
            agg = torch.zeros_like(state)
            if forced.any():
                column.copy_(forced.expand(count, v))
                agg = torch.bmm(adj[:, :v, v].unsqueeze(1), torch.stack(messages, 1)).squeeze(1)
            state = self.gru(xv, agg)
            capped = rule.max_count is not None
            counts = column.sum(1) if capped else None
            # edge scores of the free sources, newest first (-inf where not free), when a
            # shortfall is topped up with the best-scored sources
            ranked = rule.fallback is None and not (isinstance(rule.min_count, int)
                                                    and rule.min_count <= 0)
            scores = torch.full((count, v), float("-inf"), device=device,
                                dtype=torch.promote_types(z.dtype, torch.float32)) if ranked else None
            for u in self.free_sources[v]:
                logit = self._full(self._edge_logits(sources[u], state))
                if stochastic:
                    edge = torch.rand(logit.shape, generator=generator, device=device) < torch.sigmoid(logit)
                else:
                    edge = logit > 0
                free_u = free[:, u]
                edge = edge & live & free_u
                if capped:
                    edge = edge & (counts < rule.max_count)
                    counts = counts + edge
                if ranked:
                    scores[:, v - 1 - u] = torch.where(free_u, logit, scores[:, v - 1 - u])
                if edge.any():
                    column[:, u].masked_fill_(edge, 1.0)
                    agg = agg + edge.float().unsqueeze(1) * messages[u]
                    state = self.gru(xv, agg)
            if self._top_up(rule, column, scores, live, v):
                agg = torch.bmm(adj[:, :v, v].unsqueeze(1), torch.stack(messages, 1)).squeeze(1)
                state = self.gru(xv, agg)
            ended = live & (types[:, v] == self.output_type)
            if ended.any():
                extra = rules.closing_edges(types[:, :v + 1], adj[:, :v + 1, :v + 1])
                if extra is not None:
                    adj[:, :v, v] = torch.maximum(adj[:, :v, v], (extra & ended.unsqueeze(1)).float())
            sizes = torch.where(ended, torch.full_like(sizes, v + 1), sizes)
            done = done | ended
            states.append(state)
            messages.append(self.message(state, v))
            sources.append(self.edge_source(state))
            if bool(done.all()):
                break
        return DenseGraphs(types, adj, sizes)

    def _usable_types(self, allowed: torch.Tensor, live: torch.Tensor, position: int) -> torch.Tensor:
        """The rules' type mask, checked: a live graph with no allowed type is an error of the
        rules; ended graphs, whose choice is discarded, may take any type."""
        empty = ~allowed.any(1)
        if not bool(empty.any()):
            return allowed
        if bool((empty & live).any()):
            raise GraphVAENASError(f"decoding rules allow no type for node {position} of a graph "
                                   "that has not ended")
        return allowed | empty.unsqueeze(1)

    def _top_up(self, rule: PredecessorRule, column: torch.Tensor, scores: torch.Tensor | None,
                live: torch.Tensor, v: int) -> bool:
        """Add edges into node ``v`` (``column = adj[:, :v, v]``, edited in place) to graphs with
        fewer than ``rule.min_count`` predecessors: from ``rule.fallback`` (lowest index first)
        or from the undrawn free sources, best ``scores`` (newest first, ``[B, v]``) first.
        Returns whether an edge was added."""
        if isinstance(rule.min_count, int) and rule.min_count <= 0:
            return False
        missing = (rule.min_count - column.sum(1)).clamp(min=0) * live
        if not bool((missing > 0).any()):
            return False
        if rule.fallback is not None:
            open_ = rule.fallback.expand_as(column) & (column == 0)
            pick = open_ & (open_.cumsum(1) <= missing.unsqueeze(1))
        else:
            undrawn = scores.masked_fill(column.flip(1) > 0, float("-inf"))
            order = torch.sort(undrawn, dim=1, descending=True, stable=True)
            rank_ok = torch.arange(v, device=column.device) < missing.unsqueeze(1)
            take = rank_ok & torch.isfinite(order.values)
            newest_first = torch.zeros_like(take).scatter_(1, order.indices, take)
            pick = newest_first.flip(1) & (column == 0)
        if not bool(pick.any()):
            return False
        column.masked_fill_(pick, 1.0)
        return True
