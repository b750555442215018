"""Checks an ONNX file with onnx.checker and prints its input and output shapes; exit 3 when
the onnx package is missing (the test then skips this part)."""
import sys

try:
    import onnx
except ImportError as e:
    print("no onnx:", e)
    sys.exit(3)

model = onnx.load(sys.argv[1])
onnx.checker.check_model(model)


def shape(value):
    return [d.dim_param or d.dim_value for d in value.type.tensor_type.shape.dim]


inp, out = model.graph.input[0], model.graph.output[0]
print(f"{inp.name} {shape(inp)} -> {out.name} {shape(out)}")
