// The loop the JSON-driven test tools share: one request object (or an array of them) on stdin, one
// answer each on stdout; a request that fails answers {"error": message} and the others still run.
#pragma once
#include <cstdio>
#include <iostream>
#include <iterator>
#include <string>

#include <nlohmann/json.hpp>

#include "common/error.h"

namespace isc::test_tools {

// run(request) -> answer. Exit status 0 with an answer per request; 2 when stdin is not JSON.
template <class Run>
int serve_json_requests(const char* tool, const Run& run) {
  using nlohmann::json;
  json in;
  try {
    in = json::parse(std::string(std::istreambuf_iterator<char>(std::cin), {}));
  } catch (const json::exception& e) {
    std::fprintf(stderr, "%s: invalid request: %s\n", tool, e.what());
    return 2;
  }
  auto answer = [&](const json& req) -> json {
    try {
      return run(req);
    } catch (const isc::Error& e) {
      return {{"error", e.what()}};
    } catch (const json::exception& e) {
      return {{"error", std::string(tool) + ": bad request: " + e.what()}};
    }
  };
  json out;
  if (in.is_array()) {
    out = json::array();
    for (const json& r : in) out.push_back(answer(r));
  } else {
    out = answer(in);
  }
  std::cout << out.dump() << "\n";
  return 0;
}

}  // namespace isc::test_tools
