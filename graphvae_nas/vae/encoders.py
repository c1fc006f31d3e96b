"""Graph encoders: D-VAE's asynchronous message passing, and a GIN (arch2vec style)."""
from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from graphvae_nas.vae.batch import DenseGraphs
from graphvae_nas.vae.config import VAEConfig
from graphvae_nas.vae.recurrence import dag_gru_recurrence


def one_hot_types(types: torch.Tensor, num_types: int,
                  dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """One-hot of ``types [..., N]``; padding (``-1``) becomes a zero vector."""
    return (F.one_hot(types.clamp(min=0), num_types) * (types >= 0).unsqueeze(-1)).to(dtype)


class GatedMessage(nn.Module):
    """D-VAE's message of a node at position ``p``: ``sigmoid(W_g [h; id_p]) * (W_m [h; id_p])``
    with ``id_p`` the one-hot position (when ``vertex_id``). ``W [h; id_p]`` is computed as
    ``W_h h + W[:, p]``: the same function without building the concatenation."""

    def __init__(self, hidden: int, max_nodes: int, vertex_id: bool) -> None:
        super().__init__()
        self.gate = nn.Linear(hidden, hidden)
        self.mapper = nn.Linear(hidden, hidden, bias=False)
        if vertex_id:
            self.gate_position = nn.Parameter(torch.zeros(max_nodes, hidden))
            self.mapper_position = nn.Parameter(torch.zeros(max_nodes, hidden))
            bound = 1.0 / (hidden + max_nodes) ** 0.5  # nn.Linear's init for the wider input
            for weight in (self.gate.weight, self.mapper.weight, self.gate_position,
                           self.mapper_position):
                nn.init.uniform_(weight, -bound, bound)
        else:
            self.gate_position = self.mapper_position = None

    def fused_weight(self) -> torch.Tensor:
        """Gate and mapper weights stacked ``[2h, h]``: one product computes both."""
        return torch.cat([self.gate.weight, self.mapper.weight])

    def fused_offsets(self, positions: range) -> torch.Tensor:
        """Per step, the bias of :meth:`fused_weight`'s product: gate bias and, with vertex ids,
        the position terms of the step's position ``[len(positions), 2h]``."""
        bias = torch.cat([self.gate.bias, torch.zeros_like(self.gate.bias)])
        if self.gate_position is None:
            return bias.expand(len(positions), -1)
        index = torch.tensor(list(positions), device=bias.device)
        return torch.cat([self.gate_position, self.mapper_position], -1)[index] + bias

    def forward(self, h: torch.Tensor, position: int) -> torch.Tensor:
        gate, mapped = self.gate(h), self.mapper(h)
        if self.gate_position is not None:
            gate = gate + self.gate_position[position]
            mapped = mapped + self.mapper_position[position]
        return torch.sigmoid(gate) * mapped


class DagEncoder(nn.Module):
    """Asynchronous message passing in topological order (D-VAE): node ``v``'s state is a
    GRU cell of its type, fed the gated sum of its predecessors' messages; all graphs of the
    batch advance one position at a time. Optionally a second pass in reverse order."""

    def __init__(self, num_types: int, max_nodes: int, config: VAEConfig) -> None:
        super().__init__()
        hidden = config.hidden_size
        self.num_types = num_types
        self.bidirectional = config.bidirectional
        self.gru_forward = nn.GRUCell(num_types, hidden)
        self.msg_forward = GatedMessage(hidden, max_nodes, config.vertex_id)
        if self.bidirectional:
            self.gru_backward = nn.GRUCell(num_types, hidden)
            self.msg_backward = GatedMessage(hidden, max_nodes, config.vertex_id)
            self.unify = nn.Linear(2 * hidden, hidden)
        self.fc_mu = nn.Linear(hidden, config.latent_size)
        self.fc_logvar = nn.Linear(hidden, config.latent_size)

    def forward(self, graphs: DenseGraphs) -> tuple[torch.Tensor, torch.Tensor]:
        x = one_hot_types(graphs.types, self.num_types, graphs.adj.dtype)
        count = graphs.types.shape[0]
        states = self._pass(x, graphs.adj, self.gru_forward, self.msg_forward)
        last = graphs.num_nodes - 1
        hg = states[torch.arange(count, device=last.device), last]
        if self.bidirectional:
            # the reverse pass is the forward pass over the reversed graph
            back = self._pass(x.flip(1), graphs.adj.flip(1, 2).transpose(1, 2),
                              self.gru_backward, self.msg_backward, reverse=True)
            hg = self.unify(torch.cat([hg, back[:, -1]], dim=-1))
        return self.fc_mu(hg), self.fc_logvar(hg)

    @staticmethod
    def _pass(x: torch.Tensor, adj: torch.Tensor, gru: nn.GRUCell, message: GatedMessage,
              reverse: bool = False) -> torch.Tensor:
        """States ``[count, n, h]`` of one pass in topological order of ``adj``; with
        ``reverse`` step ``i`` is position ``n - 1 - i`` (for the messages' position terms).
        The GRU's input side, which depends only on node types, is computed for all positions
        at once; the recurrence itself is :func:`dag_gru_recurrence`."""
        n = x.shape[1]
        positions = range(n - 1, -1, -1) if reverse else range(n)
        input_side = F.linear(x, gru.weight_ih, gru.bias_ih)
        first = gru_step(input_side[:, 0], gru.bias_hh.to(input_side.dtype),
                         input_side.new_zeros(x.shape[0], gru.hidden_size))
        states, _ = dag_gru_recurrence(first, input_side, adj, gru.weight_hh, gru.bias_hh,
                                       message.fused_weight(), message.fused_offsets(positions))
        return states


def gru_step(input_side: torch.Tensor, hidden_side: torch.Tensor, hidden: torch.Tensor) -> torch.Tensor:
    """``nn.GRUCell`` from its two affine parts ``W_ih x + b_ih`` and ``W_hh h + b_hh``,
    computed by the caller (gate order r, z, n as in PyTorch)."""
    i_r, i_z, i_n = input_side.chunk(3, -1)
    h_r, h_z, h_n = hidden_side.chunk(3, -1)
    reset = torch.sigmoid(i_r + h_r)
    update = torch.sigmoid(i_z + h_z)
    candidate = torch.tanh(i_n + reset * h_n)
    return candidate + update * (hidden - candidate)


class GinEncoder(nn.Module):
    """Graph isomorphism network over both edge directions (PyG ``GINConv``), sum-pooled
    over each graph's nodes (arch2vec's encoder, pooled to one graph-level code)."""

    def __init__(self, num_types: int, max_nodes: int, config: VAEConfig) -> None:
        super().__init__()
        from torch_geometric.nn import GINConv

        hidden = config.hidden_size
        self.num_types = num_types
        self.embed = nn.Linear(num_types, hidden)
        self.convs = nn.ModuleList(
            GINConv(nn.Sequential(nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, hidden)),
                    train_eps=True)
            for _ in range(config.gin_layers))
        self.fc_mu = nn.Linear(hidden, config.latent_size)
        self.fc_logvar = nn.Linear(hidden, config.latent_size)

    def forward(self, graphs: DenseGraphs) -> tuple[torch.Tensor, torch.Tensor]:
        count, n = graphs.types.shape
        real = graphs.types >= 0
        x = self.embed(one_hot_types(graphs.types, self.num_types, graphs.adj.dtype)[real])
        flat_index = torch.full((count, n), -1, dtype=torch.long, device=x.device)
        flat_index[real] = torch.arange(x.shape[0], device=x.device)
        g, s, d = torch.nonzero(graphs.adj > 0.5, as_tuple=True)
        src, dst = flat_index[g, s], flat_index[g, d]
        edge_index = torch.stack([torch.cat([src, dst]), torch.cat([dst, src])])
        for conv in self.convs:
            x = F.relu(conv(x, edge_index))
        graph_of = torch.arange(count, device=x.device).unsqueeze(1).expand(count, n)[real]
        pooled = x.new_zeros(count, x.shape[1]).index_add_(0, graph_of, x)
        return self.fc_mu(pooled), self.fc_logvar(pooled)


def build_encoder(num_types: int, max_nodes: int, config: VAEConfig) -> nn.Module:
    return {"dvae": DagEncoder, "gin": GinEncoder}[config.encoder](num_types, max_nodes, config)
