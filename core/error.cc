#include "core/error.hh"

#include <ares.h>
#include <llhttp.h>
#include <openssl/err.h>
#include <uv.h>

namespace mpic {
namespace {

class mpic_error_category final : public std::error_category {
public:
    const char* name() const noexcept override { return "mpic"; }
    std::string message(int code) const override {
        switch (static_cast<errc>(code)) {
        case errc::cancelled: return "operation cancelled";
        case errc::timed_out: return "deadline exceeded";
        case errc::queue_full: return "queue full";
        case errc::shutting_down: return "shutting down";
        case errc::invalid_argument: return "invalid argument";
        case errc::limit_exceeded: return "limit exceeded";
        case errc::malformed: return "malformed input";
        case errc::refused_by_policy: return "refused by policy";
        case errc::not_found: return "not found";
        case errc::io_error: return "I/O error";
        }
        return "unknown mpic error " + std::to_string(code);
    }
    std::error_condition default_error_condition(int code) const noexcept override {
        if (static_cast<errc>(code) == errc::timed_out) {
            return std::errc::timed_out;
        }
        if (static_cast<errc>(code) == errc::cancelled) {
            return std::errc::operation_canceled;
        }
        return {code, *this};
    }
};

class uv_error_category final : public std::error_category {
public:
    const char* name() const noexcept override { return "libuv"; }
    std::string message(int code) const override { return std::string(uv_err_name(code)) + ": " + uv_strerror(code); }
    std::error_condition default_error_condition(int code) const noexcept override {
        // libuv codes are negated errno values on Unix, so they map straight onto the generic category.
        if (code < 0 && code > -4096) {
            return {-code, std::generic_category()};
        }
        return {code, *this};
    }
};

class ares_error_category final : public std::error_category {
public:
    const char* name() const noexcept override { return "c-ares"; }
    std::string message(int code) const override { return ares_strerror(code); }
};

class ssl_error_category final : public std::error_category {
public:
    const char* name() const noexcept override { return "openssl"; }
    std::string message(int code) const override {
        char buf[256];
        ERR_error_string_n(static_cast<unsigned long>(static_cast<unsigned int>(code)), buf, sizeof buf);
        return buf;
    }
};

class llhttp_error_category final : public std::error_category {
public:
    const char* name() const noexcept override { return "llhttp"; }
    std::string message(int code) const override { return llhttp_errno_name(static_cast<llhttp_errno_t>(code)); }
};

} // namespace

const std::error_category& mpic_category() noexcept {
    static const mpic_error_category instance;
    return instance;
}
const std::error_category& uv_category() noexcept {
    static const uv_error_category instance;
    return instance;
}
const std::error_category& ares_category() noexcept {
    static const ares_error_category instance;
    return instance;
}
const std::error_category& ssl_category() noexcept {
    static const ssl_error_category instance;
    return instance;
}
const std::error_category& llhttp_category() noexcept {
    static const llhttp_error_category instance;
    return instance;
}

std::error_code take_ssl_error() noexcept {
    unsigned long code = ERR_get_error();
    ERR_clear_error();
    if (code == 0) {
        return make_error_code(errc::io_error);
    }
    return ssl_error(code);
}

} // namespace mpic
