# Both ends at once: `isc run --backend openai` against `isc serve` writes the rows of the embedded
# run (greedy): texts, token ids, option probabilities, cache bookkeeping and hidden states; and a
# run sharded over two processes on the same server merges to the same rows.
import pytest

from isc_cli import isc
from serve_fixture import Server
from store_rows import query

ARGS = ["--task", "bbq", "--conditions", "baseline,self-correct", "--rounds", "3", "--limit", "6", "--shuffle",
        "--seed", "11", "--max-batch", "6", "--hidden-layers", "0,15,30", "--hidden-positions", "answer,user_end",
        "-q", "--no-report"]
COLUMNS = ("condition, item_id, round, user_message, assistant_prefill, prompt_tokens, generated_text, tokens, "
           "finish_reason, parsed_answer, answer_index, option_probs, correct, score, context_tokens")


def rows(path):
    return query(path, f"SELECT {COLUMNS} FROM rounds ORDER BY condition, item_id, round")


def hidden(path):
    return query(path, "SELECT condition, item_id, round, position, layer, dim, data FROM hidden_states "
                       "ORDER BY condition, item_id, round, position, layer")


@pytest.fixture(scope="module")
def embedded(isc_bin, model_path, root, tmp_path_factory):
    out = tmp_path_factory.mktemp("embedded") / "embedded.sqlite"
    isc(isc_bin, root, "run", "--model", model_path, "--out", out, *ARGS)
    assert len(rows(out)) == 2 * 6 * 3
    return out


@pytest.fixture(scope="module")
def server(isc_bin, model_path, root):
    # room for every conversation's cache: a prefix evicted between rounds would be tokenized afresh
    s = Server(isc_bin, model_path, "--cache-budget-mb", "2048", cwd=root)
    yield s
    assert s.stop() == 0, "\n".join(s.lines)


def test_openai_backend_on_isc_serve_writes_the_embedded_rows(isc_bin, root, tmp_path, embedded, server):
    out = tmp_path / "served.sqlite"
    isc(isc_bin, root, "run", "--backend", "openai", "--base-url", server.base, "--out", out, *ARGS)
    served = rows(out)
    assert len(served) == len(rows(embedded))
    # every column, floats and token ids included: the same engine computes the same numbers
    for a, b in zip(served, rows(embedded)):
        assert a == b, (a[:3], [i for i, (x, y) in enumerate(zip(a, b)) if x != y])
    assert hidden(out) == hidden(embedded)
    (backend, model), = query(out, "SELECT json_extract(config, '$.backend'), model FROM runs")
    assert backend == "openai" and model == server.model_id


def test_shards_on_one_server_merge_to_the_embedded_rows(isc_bin, root, tmp_path, embedded, server):
    out = tmp_path / "sharded.sqlite"
    for i in range(2):
        isc(isc_bin, root, "run", "--backend", "openai", "--base-url", server.base, "--out", out, "--shard", f"{i}/2",
            *ARGS)
    isc(isc_bin, root, "merge", tmp_path / "sharded.shard-0-of-2.sqlite", tmp_path / "sharded.shard-1-of-2.sqlite",
        "--out", out)
    assert rows(out) == rows(embedded)
    assert hidden(out) == hidden(embedded)
