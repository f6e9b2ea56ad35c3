# The llama.cpp peer of the benchmarks (llama-cpp-python on the same GGUF), loaded one way for all
# of them: on CPUs with AMX, llama-cpp-python 0.3.36 crashes unless use_extra_bufts = false.
import sys

import llama_cpp
import llama_cpp.llama_cpp as llama_cpp_lib
from llama_cpp import Llama


def cpu_has_amx():
    try:
        with open("/proc/cpuinfo") as f:
            return " amx_" in f.read()
    except OSError:
        return False


_patched = False


def avoid_amx_buffers():
    """llama-cpp-python 0.3.36 segfaults on its first decode on AMX CPUs when it puts weights in its
    extra (repacked AMX) buffers; the model parameter use_extra_bufts = false avoids it. Applies to
    every model loaded afterwards (Llama objects and the low-level API alike); says so on stderr."""
    global _patched
    if _patched or not cpu_has_amx():
        return
    default = llama_cpp_lib.llama_model_default_params

    def no_extra_bufts():
        p = default()
        p.use_extra_bufts = False
        return p

    # Llama() calls the function through the llama_cpp.llama_cpp module, not the package's re-export.
    llama_cpp_lib.llama_model_default_params = no_extra_bufts
    llama_cpp.llama_model_default_params = no_extra_bufts
    _patched = True
    print("bench: AMX CPU, llama.cpp loaded with use_extra_bufts = false", file=sys.stderr)


def load_llama(model, threads, n_ctx=8192):
    avoid_amx_buffers()
    return Llama(model_path=model, n_ctx=n_ctx, n_threads=threads, n_batch=512, verbose=False)
