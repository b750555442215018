// Reads and writes .safetensors files (https://github.com/huggingface/safetensors), validating every field.
#pragma once

#include <map>
#include <string>

#include <ATen/ATen.h>

namespace vitc {

// Ordered by key name (std::map), tensors are CPU, contiguous.
using TensorMap = std::map<std::string, at::Tensor>;

struct SafetensorsFile {
  TensorMap tensors;
  std::map<std::string, std::string> metadata;  // the header's "__metadata__" (string to string)
};

// Reads a .safetensors file. Supported dtypes: F32, F16, BF16, F64, I64, I32, I16, I8, U8, BOOL.
// F16 and BF16 are converted to float32 unless keep_dtype is true; every other dtype keeps its own.
// Each tensor owns its memory (read straight from the file into it, no shared buffer kept alive).
// Anything malformed (truncated file, bad header JSON, unknown dtype, bad shape or offsets,
// overlapping tensors, holes or trailing bytes in the data buffer, non-string metadata) throws
// vitc::Error naming the path and, where there is one, the tensor.
SafetensorsFile read_safetensors(const std::string& path, bool keep_dtype = false);

// Writes atomically (vitc::atomic_write: temp file then rename). Tensors of dtypes float32, float16,
// bfloat16, float64, int64, int32, int16, int8, uint8 and bool are written with their own dtype;
// non-contiguous or non-CPU tensors are made contiguous CPU first. The header is padded with spaces
// to a multiple of 8 bytes and tensors are laid out in key order. Throws vitc::Error for an
// undefined, sparse or unsupported-dtype tensor, or a tensor named "__metadata__".
void write_safetensors(const std::string& path, const TensorMap& tensors,
                       const std::map<std::string, std::string>& metadata = {});

}  // namespace vitc
