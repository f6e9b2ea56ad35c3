// Routes, auth, limits, errors and SSE streaming of `isc serve` (http_server.h). A handler thread
// parses its request, hands the job to the engine thread and waits on the job's channel; while
// streaming it writes what the channel has, so a slow or vanished client only holds its own thread
// (a failed write cancels its engine job).
#include "serve/http_server.h"

#include <chrono>
#include <random>
#include <thread>

#include <fmt/core.h>
#include <httplib.h>

#include "common/error.h"
#include "serve/response_json.h"
#include "text/chat_template.h"
#include "text/tokenizer.h"

namespace isc::serve {

using nlohmann::json;

struct HttpServer::Impl {
  EngineWorker& worker;
  ServerOptions options;
  httplib::Server svr;
  std::string id_prefix;
  std::atomic<uint64_t> next_id{1};
  std::atomic<int> open_streams{0};  // streamed responses not yet finished

  Impl(EngineWorker& w, ServerOptions o) : worker(w), options(std::move(o)) {}

  void routes(int max_batch);
  void completions(const httplib::Request& req, httplib::Response& res, bool chat);
  void stream(httplib::Response& res, std::shared_ptr<RequestChannel> ch, ResponseHead head, ParsedRequest q);
  json model_json() const;
};

namespace {

void reply_error(httplib::Response& res, const ApiError& e) {
  res.status = e.status();
  res.set_content(dump(e.body()), "application/json");
}

std::string sse(const json& j) { return "data: " + dump(j) + "\n\n"; }

// Bearer-key comparison that does not stop at the first differing byte.
bool same_key(const std::string& a, const std::string& b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i % (b.empty() ? 1 : b.size())]);
  return diff == 0 && !b.empty();
}

}  // namespace

HttpServer::HttpServer(EngineWorker& worker, ServerOptions options, int max_batch)
    : impl_(std::make_unique<Impl>(worker, std::move(options))) {
  std::random_device rd;
  impl_->id_prefix = fmt::format("{:08x}", rd());
  impl_->routes(max_batch);
}

HttpServer::~HttpServer() = default;

int HttpServer::bind() {
  Impl& m = *impl_;
  int port = m.options.port;
  if (port == 0) {
    port = m.svr.bind_to_any_port(m.options.host);
    if (port < 0) throw Error(fmt::format("isc serve: cannot bind {} (any port)", m.options.host));
  } else if (!m.svr.bind_to_port(m.options.host, port)) {
    throw Error(fmt::format("isc serve: cannot bind {}:{} (in use, or not an address of this machine)", m.options.host, port));
  }
  return port;
}

bool HttpServer::serve() { return impl_->svr.listen_after_bind(); }
void HttpServer::stop() {
  // Streams whose jobs just failed (the engine stopped first) get a moment to send their error
  // event and [DONE], so clients see an ending rather than a cut connection.
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  while (impl_->open_streams.load() > 0 && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  impl_->svr.stop();
}

json HttpServer::Impl::model_json() const {
  const ModelInfo& i = worker.info();
  static const int64_t created =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  return {{"id", i.id},
          {"object", "model"},
          {"created", created},
          {"owned_by", "isc"},
          {"isc",
           {{"chat_template", i.chat_template},
            {"default_system", i.default_system ? json(*i.default_system) : json()},
            {"n_layers", i.n_layers},
            {"dim", i.dim},
            {"model_sha256", worker.model_sha256()},
            {"context_length", i.context_length}}}};
}

void HttpServer::Impl::routes(int max_batch) {
  const int threads = options.http_threads > 0 ? options.http_threads : max_batch + 16;
  svr.new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<size_t>(threads)); };
  svr.set_payload_max_length(options.max_request_bytes);
  svr.set_tcp_nodelay(true);
  svr.set_keep_alive_max_count(100000);

  svr.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    if (options.api_key.empty() || req.path == "/health") return httplib::Server::HandlerResponse::Unhandled;
    const std::string auth = req.get_header_value("Authorization");
    const std::string bearer = "Bearer ";
    if (auth.rfind(bearer, 0) == 0 && same_key(auth.substr(bearer.size()), options.api_key))
      return httplib::Server::HandlerResponse::Unhandled;
    reply_error(res, ApiError(401, auth.empty() ? "missing API key: send Authorization: Bearer <key>" : "incorrect API key provided",
                              "invalid_request_error", "invalid_api_key"));
    return httplib::Server::HandlerResponse::Handled;
  });
  // Called for every status >= 400: fills in a JSON body where httplib left none (no route, 413).
  svr.set_error_handler(httplib::Server::HandlerWithResponse([](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
    if (res.status == 413)
      reply_error(res, ApiError(413, "request body too large", "invalid_request_error", "request_too_large"));
    else if (res.status == 404)
      reply_error(res, ApiError(404, fmt::format("no route {} {}", req.method, req.path), "invalid_request_error", "not_found"));
    else
      reply_error(res, ApiError(res.status, fmt::format("HTTP error {}", res.status), "invalid_request_error"));
    return httplib::Server::HandlerResponse::Handled;
  }));
  svr.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
    std::string what = "unknown error";
    try {
      std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    reply_error(res, ApiError(500, "internal error: " + what, "server_error"));
  });

  svr.Get("/health", [this](const httplib::Request&, httplib::Response& res) {
    const WorkerStats& s = worker.stats();
    json j = {{"status", "ok"},
              {"model", worker.info().id},
              {"in_flight", s.in_flight.load()},
              {"cached_sequences", s.cached_sequences.load()},
              {"cache_bytes", s.cache_bytes.load()},
              {"requests", s.requests_done.load()},
              {"prompt_tokens", s.prompt_tokens.load()},
              {"reused_tokens", s.reused_tokens.load()}};
    res.set_content(dump(j), "application/json");
  });
  svr.Get("/v1/models", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(dump({{"object", "list"}, {"data", {model_json()}}}), "application/json");
  });
  svr.Get(R"(/v1/models/(.+))", [this](const httplib::Request& req, httplib::Response& res) {
    if (req.matches[1] != worker.info().id) {
      reply_error(res, ApiError(404, fmt::format("The model '{}' does not exist", req.matches[1].str()), "invalid_request_error",
                                "model_not_found"));
      return;
    }
    res.set_content(dump(model_json()), "application/json");
  });
  svr.Post("/v1/chat/completions", [this](const httplib::Request& req, httplib::Response& res) { completions(req, res, true); });
  svr.Post("/v1/completions", [this](const httplib::Request& req, httplib::Response& res) { completions(req, res, false); });
}

void HttpServer::Impl::completions(const httplib::Request& req, httplib::Response& res, bool chat) {
  try {
    const json body = parse_body(req.body);
    ParsedRequest q = chat ? parse_chat_request(body, worker.info(), worker.chat_template(), options.limits)
                           : parse_completion_request(body, worker.info(), worker.tokenizer(), options.limits);
    ResponseHead head;
    head.id = fmt::format("{}-{}{:x}", chat ? "chatcmpl" : "cmpl", id_prefix, next_id.fetch_add(1));
    head.created = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    head.model = worker.info().id;
    auto ch = std::make_shared<RequestChannel>();
    ch->stream = q.stream;
    worker.submit(ch, q.job);
    // Wait for the result (or, when streaming, the first news: an error before any token is still
    // an ordinary JSON error reply, not a broken stream). An echo with logprobs streams once done:
    // the prompt's log-probabilities arrive with the result.
    const bool first_news = q.stream && !(q.echo && q.logprobs);
    RequestChannel::Progress p;
    do p = ch->wait(p, std::chrono::seconds(1));
    while (!p.done && !(first_news && (p.tokens > 0 || p.text_bytes > 0)));
    if (p.done) ch->result();  // throws the request's ApiError
    if (q.stream) return stream(res, std::move(ch), std::move(head), std::move(q));
    const ServeResult& r = ch->result();
    const Tokenizer& tok = worker.tokenizer();
    res.set_content(dump(chat ? chat_response(head, q, r, tok) : completion_response(head, q, r, tok)), "application/json");
  } catch (const ApiError& e) {
    reply_error(res, e);
  } catch (const std::exception& e) {
    reply_error(res, ApiError(500, std::string("internal error: ") + e.what(), "server_error"));
  }
}

void HttpServer::Impl::stream(httplib::Response& res, std::shared_ptr<RequestChannel> ch, ResponseHead head, ParsedRequest q) {
  struct State {
    size_t tokens = 0, text = 0;
    size_t offset = 0;  // completions: text offset of the next generated token
    bool started = false, finished = false;
  };
  auto st = std::make_shared<State>();
  const Tokenizer& tok = worker.tokenizer();
  auto provider = [ch, st, head, q, &tok](size_t, httplib::DataSink& sink) -> bool {
    if (st->finished) {
      sink.done();
      return true;
    }
    std::string out;
    if (!st->started) {
      st->started = true;
      if (q.chat) {
        out += sse(chat_chunk(head, {{"role", "assistant"}, {"content", ""}}, nullptr, nullptr));
      } else if (q.echo) {
        // with logprobs the request is done by now (completions() waited): its prompt is known
        out += sse(completion_chunk(head, q.echo_text,
                                    q.logprobs ? completion_logprobs(tok, ch->result(), true, q.echo_text, 0, 0, 0) : json(), nullptr));
        st->offset = q.echo_text.size();
      }
    }
    const RequestChannel::Progress p = ch->wait({st->tokens, st->text, false}, std::chrono::milliseconds(250));
    std::vector<int32_t> tokens;
    std::vector<float> lps;
    std::vector<std::vector<std::pair<int32_t, float>>> top;
    std::string text;
    ch->read(st->tokens, p.tokens, &tokens, &lps, &top, st->text, p.text_bytes, &text);
    st->tokens = p.tokens;
    st->text = p.text_bytes;
    json finish = nullptr;
    const ServeResult* r = nullptr;
    if (p.done) {
      try {
        r = &ch->result();
      } catch (const ApiError& e) {
        out += sse(e.body());
        out += "data: [DONE]\n\n";
        st->finished = true;
        return sink.write(out.data(), out.size());
      }
      finish = r->finish_reason;
    }
    if (!text.empty() || (q.logprobs && !tokens.empty()) || r) {
      json lp = nullptr;
      if (q.logprobs && q.chat) {
        lp = chat_logprobs(tok, tokens, lps, top);
      } else if (q.logprobs) {
        ServeResult part;
        part.tokens = tokens;
        part.logprobs = lps;
        part.top = top;
        lp = completion_logprobs(tok, part, false, "", 0, tokens.size(), st->offset);
      }
      for (int32_t t : tokens) st->offset += tok.token_bytes(t).size();
      json chunk = q.chat ? chat_chunk(head, text.empty() && r ? json::object() : json{{"content", text}}, lp, finish)
                          : completion_chunk(head, text, lp, finish);
      if (r)
        if (json x = isc_json(*r); !x.is_null()) chunk["isc"] = x;
      out += sse(chunk);
    }
    if (r) {
      if (q.include_usage) out += sse(usage_chunk(head, q.chat, *r));
      out += "data: [DONE]\n\n";
      st->finished = true;
    }
    if (out.empty()) return true;  // nothing new yet: httplib calls again
    return sink.write(out.data(), out.size());
  };
  ++open_streams;
  auto releaser = [this, ch](bool success) {
    --open_streams;
    if (!success) {  // the client went away: drop its engine job
      ch->cancelled = true;
      worker.wake();
    }
  };
  res.set_header("Cache-Control", "no-cache");
  res.set_chunked_content_provider("text/event-stream", provider, releaser);
}

}  // namespace isc::serve
