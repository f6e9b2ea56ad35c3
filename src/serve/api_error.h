// An OpenAI-shaped request failure: HTTP status plus the {"error": {message, type, code}} body.
// Thrown anywhere a request is parsed, checked or run; the HTTP layer turns it into the reply.
#pragma once
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

namespace isc::serve {

class ApiError : public std::runtime_error {
 public:
  ApiError(int status, std::string message, std::string type = "invalid_request_error", std::string code = "")
      : std::runtime_error(message), status_(status), type_(std::move(type)), code_(std::move(code)) {}
  int status() const { return status_; }
  const std::string& type() const { return type_; }
  const std::string& code() const { return code_; }
  nlohmann::json body() const {
    return {{"error",
             {{"message", what()}, {"type", type_}, {"param", nullptr}, {"code", code_.empty() ? nlohmann::json() : nlohmann::json(code_)}}}};
  }

 private:
  int status_;
  std::string type_, code_;
};

// 400 with the message: the common case of a bad field.
inline ApiError bad_request(const std::string& message, const std::string& code = "") {
  return ApiError(400, message, "invalid_request_error", code);
}

}  // namespace isc::serve
