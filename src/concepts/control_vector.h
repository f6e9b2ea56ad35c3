// llama.cpp's GGUF control-vector format (also written by repeng): general.architecture
// "controlvector", controlvector.model_hint, controlvector.layer_count, one f32 tensor per layer
// named "direction.<n>". isc layer l (the output of block l, 1-based) is llama.cpp's direction.<l-1>.
//
// Where the layer index convention comes from (ggml-org/llama.cpp and vgel/repeng sources):
// - llama.cpp, common/common.cpp, common_control_vector_load_one: parses the number after
//   "direction.", refuses 0 (and anything unparsable, non-F32 or not 1-D; one bad tensor drops the
//   whole file), and stores direction.<n> at slot n-1 of a flat buffer. src/llama-adapter.cpp,
//   llama_adapter_cvec::apply copies slot n-1 into the per-layer tensor of layer n (there is never
//   one for layer 0), and the graph builders (e.g. src/models/llama.cpp, the block loop) add the
//   tensor of layer il to the block's output ("l_out", after the FFN residual) through
//   build_cvec(cur, il), il counting blocks from 0. So direction.<n> is added to the output of
//   0-based block n, which is isc layer n+1.
// - repeng, repeng/control.py, ControlModel/ControlModule: direction <k> is added to the output of
//   model.layers[k] (0-based); repeng/extract.py, read_representations/batched_get_hiddens: the
//   direction for k is learnt from hidden_states[k+1], the same block output; export_gguf names
//   the tensor direction.<k> (1-D float32, numpy shape (n_embd,), ggml ne [n_embd]) and writes
//   layer_count as UINT32 = the number of tensors. Same convention as llama.cpp.
// - llama.cpp's own tools/cvector-generator writes layer_count as INT32 and names the direction it
//   learnt from block il's output direction.<il+1>, one block later than where it is applied; isc
//   follows the application side above, which is what decides where a vector acts.
// Hence isc layer 1 (first block's output) has no llama.cpp slot; write_control_vector refuses it
// rather than write a file llama.cpp would reject whole.
#pragma once
#include <map>
#include <string>
#include <vector>

namespace isc::concepts {

struct ControlVector {
  std::string model_hint;                      // the architecture, e.g. "llama"
  std::map<int, std::vector<float>> by_layer;  // isc layer (1..n_layers) -> vector
};

// isc layer <-> the <n> of "direction.<n>".
inline int control_vector_file_index(int isc_layer) { return isc_layer - 1; }
inline int control_vector_isc_layer(int file_index) { return file_index + 1; }

// Writes layer_count as UINT32 and one 1-D F32 tensor per layer, ascending, as repeng does.
// Throws isc::Error "path: ..." on an empty map, an empty vector, vectors of different lengths, a
// non-finite value, or a layer < 2 (isc layer 1 would be direction.0, which llama.cpp refuses).
void write_control_vector(const std::string& path, const ControlVector& cv);
// Accepts what repeng and llama.cpp write: layer_count of any integer type (not checked against
// the tensors: llama.cpp ignores it), model_hint optional (empty when absent), direction.0 (repeng
// can write it; isc layer 1), direction tensors of ggml ne [n] (trailing 1s allowed, as ggml counts
// dimensions). Throws isc::Error "path: ..." if the file is not a GGUF control vector, has no
// tensors, a tensor is not F32 or not 1-D, names an unparsable layer, tensor lengths differ, or a
// value is not finite.
ControlVector read_control_vector(const std::string& path);

}  // namespace isc::concepts
