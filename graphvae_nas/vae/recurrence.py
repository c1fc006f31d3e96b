"""D-VAE's node recurrence over a batch of DAGs, with a hand-written backward pass.

Encoder and teacher-forced decoder share one recurrence. Position ``v``'s state is a GRU
cell fed its input side ``x_v`` and the gated sum of its predecessors' messages,

    m_u = sigmoid(g_u) * p_u,   [g_u; p_u] = W_msg h_u + o_u,
    agg = sum_{u < v} w_u m_u,  hidden side = W_hh agg + b_hh = sum_u w_u (W_hh m_u) + b_hh,
    h = GRU(x_v, hidden side, agg),

with ``w_u = adj[u, v]``. The decoder also needs, for each of its edge decisions, the state of
``v`` before the decision, i.e. the same GRU on the partial sum over ``u >= s``; the
``suffix_starts`` of a position list the ``s`` of those extra states (0, first, is the node
state itself).

Autograd would record dozens of small operations per position and, for the weight gradients,
one thin product per position and weight; at batch 32 on a CPU that bookkeeping took about
half of a training step. The hand-written backward keeps the sequential part to
the products that must be sequential and computes each weight gradient as one product over all
positions. It matches the plain autograd formulation to float64 rounding
(tests/test_recurrence.py). ``adj`` gets no gradient.
"""
from __future__ import annotations

from collections.abc import Sequence

import torch
from torch.autograd.function import once_differentiable


def dag_gru_recurrence(first: torch.Tensor, input_side: torch.Tensor, adj: torch.Tensor,
                       weight_hh: torch.Tensor, bias_hh: torch.Tensor,
                       message_weight: torch.Tensor, message_offsets: torch.Tensor,
                       suffix_starts: Sequence[Sequence[int]] | None = None,
                       ) -> tuple[torch.Tensor, torch.Tensor]:
    """Node states ``[count, n, h]`` and extra states ``[count, P, h]`` of the recurrence above.

    ``first`` is the state of position 0 ``[count, h]``; ``input_side`` the GRU input sides
    ``W_ih x_v + b_ih`` of all positions ``[count, n, 3h]``; ``adj[b, u, v]`` the weight of
    ``u -> v``; ``message_weight`` ``[2h, h]`` and ``message_offsets`` ``[n, 2h]`` the gate and
    mapper of the messages (offsets include biases and position terms). ``suffix_starts[v]``
    (positions ``v >= 1``; default ``[0]``) start with 0; the extra states are those of
    ``s > 0`` in order of ``v`` then of the list. Computes in ``input_side``'s dtype (the
    autocast dtype under autocast); the other floating inputs are cast to it.
    """
    dtype = input_side.dtype
    n = input_side.shape[1]
    if suffix_starts is None:
        suffix_starts = [[0]] * n
    starts = tuple(tuple(s) for s in suffix_starts)
    if len(starts) < n or any(not s or s[0] != 0 for s in starts[1:n]):
        raise ValueError("suffix_starts needs one list per position, each starting with 0")
    with torch.autocast(input_side.device.type, enabled=False):
        return _DagGru.apply(first.to(dtype), input_side, adj.to(dtype), weight_hh.to(dtype),
                             bias_hh.to(dtype), message_weight.to(dtype),
                             message_offsets.to(dtype), starts)


class _DagGru(torch.autograd.Function):
    """Messages and their projections share one buffer ``[count, n - 1, 4h]`` (message, then
    ``W_hh`` message), so one weighted sum gives both the GRU's hidden input and its hidden
    side. Where every position needs only its node state, each message is pushed into the sums
    of all later positions as soon as it exists (one broadcast multiply-add, cheaper than a
    batched product with a one-row operand); otherwise each position pulls its sums with one
    batched product. The backward pass pushes gradients back the same way."""

    @staticmethod
    def forward(ctx, first, input_side, adj, weight_hh, bias_hh, message_weight,
                message_offsets, starts):
        count, n, three_h = input_side.shape
        h = three_h // 3
        push = all(len(s) == 1 for s in starts[1:n])
        states = first.new_empty(count, n, h)
        states[:, 0] = first
        sent = first.new_empty(count, max(n - 1, 0), 4 * h)       # [message, W_hh message]
        offset = torch.cat([bias_hh.new_zeros(h), bias_hh])      # sums get b_hh on the hidden side
        received = offset.expand(count, n, 4 * h).clone() if push else None
        gates, mapped_parts, steps, extra = [], [], [], []
        for v in range(1, n):
            u = v - 1
            pre = torch.addmm(message_offsets[u], states[:, u], message_weight.t())
            gate = torch.sigmoid(pre[:, :h])
            mapped = pre[:, h:]
            torch.mul(gate, mapped, out=sent[:, u, :h])
            torch.mm(sent[:, u, :h], weight_hh.t(), out=sent[:, u, h:])
            gates.append(gate)
            mapped_parts.append(mapped)
            if push:
                received[:, v:].addcmul_(adj[:, u, v:].unsqueeze(-1), sent[:, u].unsqueeze(1))
                weights, sums = None, received[:, v:v + 1]
            else:
                weights = _suffix_weights(adj[:, :v, v], starts[v])           # [count, k, v]
                sums = torch.baddbmm(offset, weights, sent[:, :v])            # [count, k, 4h]
            agg, hidden_side = sums[..., :h], sums[..., h:]
            x = input_side[:, v].unsqueeze(1)
            rz = torch.sigmoid(x[..., :2 * h] + hidden_side[..., :2 * h])
            reset, update = rz[..., :h], rz[..., h:]
            hidden_n = hidden_side[..., 2 * h:]
            candidate = torch.tanh(torch.addcmul(x[..., 2 * h:], reset, hidden_n))
            towards_agg = agg - candidate
            new = torch.addcmul(candidate, update, towards_agg)   # (1 - z) c + z agg
            states[:, v] = new[:, 0]
            if new.shape[1] > 1:
                extra.append(new[:, 1:])
            steps.append((weights, rz, hidden_n, candidate, towards_agg))
        ctx.save_for_backward(adj, weight_hh, message_weight, states, sent)
        ctx.steps, ctx.gates, ctx.mapped_parts = steps, gates, mapped_parts
        extra_states = torch.cat(extra, 1) if extra else first.new_empty(count, 0, h)
        return states, extra_states

    @staticmethod
    @once_differentiable
    def backward(ctx, d_states, d_extra):
        adj, weight_hh, message_weight, states, sent = ctx.saved_tensors
        dtype = states.dtype
        d_states, d_extra = d_states.to(dtype), d_extra.to(dtype)
        count, n, h = states.shape
        d_input = states.new_zeros(count, n, 3 * h)
        d_sent = states.new_zeros(count, max(n - 1, 0), 4 * h)    # from the sums they enter
        d_pre = states.new_empty(count, max(n - 1, 0), 2 * h)
        d_sums_total = states.new_zeros(count, n, 4 * h)         # for the bias gradient
        extra_end = d_extra.shape[1]            # the extra states are consumed from the back
        d_node = d_states[:, n - 1]
        for v in range(n - 1, 0, -1):
            weights, rz, hidden_n, candidate, towards_agg = ctx.steps[v - 1]
            k = rz.shape[1]
            d_new = d_node.unsqueeze(1)
            if k > 1:
                d_new = torch.cat([d_new, d_extra[:, extra_end - (k - 1):extra_end]], 1)
                extra_end -= k - 1
            # [d agg, d hidden side]; a single state's go straight into the bias gradient's buffer
            d_sums = d_sums_total[:, v:v + 1] if k == 1 else rz.new_empty(count, k, 4 * h)
            torch.mul(d_new, rz[..., h:], out=d_sums[..., :h])
            d_n = torch.ops.aten.tanh_backward(d_new - d_sums[..., :h], candidate)
            d_rz = d_sums[..., h:3 * h]
            torch.mul(d_n, hidden_n, out=d_rz[..., :h])
            torch.mul(d_new, towards_agg, out=d_rz[..., h:])
            torch.ops.aten.sigmoid_backward.grad_input(d_rz, rz, grad_input=d_rz)
            torch.mul(d_n, rz[..., :h], out=d_sums[..., 3 * h:])
            if k == 1:   # (a sum over one row is much slower than a copy)
                d_input[:, v, :2 * h] = d_rz[:, 0]
                d_input[:, v, 2 * h:] = d_n[:, 0]
            else:
                torch.sum(d_rz, 1, out=d_input[:, v, :2 * h])
                torch.sum(d_n, 1, out=d_input[:, v, 2 * h:])
                torch.sum(d_sums, 1, out=d_sums_total[:, v])
            if weights is None:
                d_sent[:, :v].addcmul_(adj[:, :v, v].unsqueeze(-1), d_sums)
            else:
                d_sent[:, :v].baddbmm_(weights.transpose(1, 2), d_sums)
            # message of position v - 1, complete now that every later position is done
            u = v - 1
            d_message = torch.addmm(d_sent[:, u, :h], d_sent[:, u, h:], weight_hh)
            gate, mapped = ctx.gates[u], ctx.mapped_parts[u]
            torch.ops.aten.sigmoid_backward.grad_input(d_message * mapped, gate,
                                                       grad_input=d_pre[:, u, :h])
            torch.mul(d_message, gate, out=d_pre[:, u, h:])
            d_node = torch.addmm(d_states[:, u], d_pre[:, u], message_weight)
        d_weight_hh = (d_sent[..., h:].reshape(-1, 3 * h).t()
                       @ sent[..., :h].reshape(-1, h))
        d_message_weight = d_pre.flatten(0, 1).t() @ states[:, :n - 1].flatten(0, 1)
        d_offsets = torch.cat([d_pre.sum(0), d_pre.new_zeros(1, 2 * h)])
        d_bias = d_sums_total[..., h:].sum((0, 1))
        return (d_node, d_input, None, d_weight_hh, d_bias, d_message_weight, d_offsets, None)


def _suffix_weights(edges: torch.Tensor, starts: Sequence[int]) -> torch.Tensor:
    """``w[:, i, u] = edges[:, u]`` where ``u >= starts[i]``, else 0 (``[count, k, v]``)."""
    if len(starts) == 1 and starts[0] == 0:
        return edges.unsqueeze(1)
    sources = torch.arange(edges.shape[1], device=edges.device)
    begin = torch.tensor(starts, device=edges.device).unsqueeze(1)
    return edges.unsqueeze(1) * (sources >= begin).to(edges.dtype)
