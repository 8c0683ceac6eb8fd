#include "net/http/response_reader.hh"

#include <uv.h>

#include "core/error.hh"

namespace mpic::net::http {
namespace {

// A server may send any number of 1xx interim responses before the final one (RFC 9110 §15.2); a validation has no
// use for them, but an endless stream of them must not keep the reader busy until the head deadline.
constexpr int max_interim_responses = 8;

response_reader* self(llhttp_t* p) noexcept {
    return static_cast<response_reader*>(p->data);
}

void trim_trailing_ows(std::string& s) noexcept {
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
        s.pop_back();
    }
}

} // namespace

const llhttp_settings_t& response_reader::settings() noexcept {
    // One settings table for every connection (style.md §12); llhttp only reads it.
    static const llhttp_settings_t table = [] {
        llhttp_settings_t s;
        llhttp_settings_init(&s);
        s.on_message_begin = &response_reader::on_message_begin;
        s.on_status = &response_reader::on_status;
        s.on_header_field = &response_reader::on_header_field;
        s.on_header_value = &response_reader::on_header_value;
        s.on_headers_complete = &response_reader::on_headers_complete;
        s.on_body = &response_reader::on_body;
        s.on_message_complete = &response_reader::on_message_complete;
        return s;
    }();
    return table;
}

response_reader::response_reader() noexcept {
    llhttp_init(&_parser, HTTP_RESPONSE, &settings());
    _parser.data = this;
}

void response_reader::start(const reader_limits& limits, bool head_request) noexcept {
    // llhttp_reset keeps type, settings and data but clears the state, including a pause left by the previous
    // response's on_message_complete (style.md §12: reset on reuse).
    llhttp_reset(&_parser);
    _parser.data = this;
    _limits = limits;
    _state = state::head;
    _head_request = head_request;
    _in_value = false;
    _keep_alive = false;
    _status = 0;
    _major = 0;
    _minor = 0;
    _head_bytes = 0;
    _received = 0;
    _interim = 0;
    _headers.clear();
    _body.clear();
    _error = {};
    _failed_stage = stage::none;
}

int response_reader::fail(std::error_code ec, stage where) noexcept {
    if (_state != state::failed) {
        _state = state::failed;
        _error = ec;
        _failed_stage = where;
    }
    return -1;
}

bool response_reader::charge_head(std::size_t len) noexcept {
    _head_bytes += len;
    return _head_bytes <= _limits.max_head_bytes;
}

int response_reader::on_message_begin(llhttp_t* p) noexcept {
    (void)p;
    return 0;
}

int response_reader::on_status(llhttp_t* p, const char* at, std::size_t len) noexcept {
    (void)at;
    auto* r = self(p);
    if (!r->charge_head(len)) {
        return r->fail(make_error_code(errc::limit_exceeded), stage::head);
    }
    return 0;
}

int response_reader::on_header_field(llhttp_t* p, const char* at, std::size_t len) noexcept {
    auto* r = self(p);
    if (r->_state == state::body) {
        return 0; // chunked trailer fields (RFC 9112 §7.1.2): not kept, so they cost no memory
    }
    if (!r->charge_head(len)) {
        return r->fail(make_error_code(errc::limit_exceeded), stage::head);
    }
    // llhttp may deliver one name in several pieces when it spans reads; a new header starts after a value.
    if (r->_in_value || r->_headers.empty()) {
        if (r->_headers.size() >= r->_limits.max_header_count) {
            return r->fail(make_error_code(errc::limit_exceeded), stage::head);
        }
        r->_headers.emplace_back();
        r->_in_value = false;
    }
    r->_headers.back().name.append(at, len);
    return 0;
}

int response_reader::on_header_value(llhttp_t* p, const char* at, std::size_t len) noexcept {
    auto* r = self(p);
    if (r->_state == state::body) {
        return 0;
    }
    if (!r->charge_head(len)) {
        return r->fail(make_error_code(errc::limit_exceeded), stage::head);
    }
    r->_in_value = true;
    r->_headers.back().value.append(at, len);
    return 0;
}

int response_reader::on_headers_complete(llhttp_t* p) noexcept {
    auto* r = self(p);
    r->_status = p->status_code;
    r->_major = p->http_major;
    r->_minor = p->http_minor;
    for (auto& h : r->_headers) {
        if (!is_token(h.name)) {
            // llhttp 8 accepts some non-token bytes in response field names; a validator comparing headers must
            // never see a name that a stricter intermediary would have split differently.
            return r->fail(make_error_code(errc::malformed), stage::head);
        }
        trim_trailing_ows(h.value); // RFC 9110 §5.5: OWS around a field value is not part of it
    }
    if (r->_status >= 100 && r->_status < 200) {
        return 0; // interim response: llhttp knows it has no body; on_message_complete restarts the head
    }
    r->_state = state::body;
    // RFC 9110 §9.3.2: a response to HEAD has no content whatever its framing headers say; 1 tells llhttp so.
    return r->_head_request ? 1 : 0;
}

int response_reader::on_body(llhttp_t* p, const char* at, std::size_t len) noexcept {
    auto* r = self(p);
    const std::size_t room = r->_limits.body_cap - r->_body.size();
    if (len > room) {
        // Keep the first body_cap bytes (what the validator may report as response_page) and stop reading:
        // Boulder reads at most maxResponseSize and fails a longer body.
        r->_body.append(at, room);
        return r->fail(make_error_code(errc::limit_exceeded), stage::body);
    }
    r->_body.append(at, len);
    return 0;
}

int response_reader::on_message_complete(llhttp_t* p) noexcept {
    auto* r = self(p);
    if (r->_status >= 100 && r->_status < 200) {
        if (r->_status == 101 || ++r->_interim > max_interim_responses) {
            // 101 means the server switched protocols we never asked for.
            return r->fail(make_error_code(r->_status == 101 ? errc::malformed : errc::limit_exceeded), stage::head);
        }
        r->_headers.clear();
        r->_head_bytes = 0;
        r->_in_value = false;
        r->_status = 0;
        return 0;
    }
    r->_keep_alive = llhttp_should_keep_alive(p) != 0;
    r->_state = state::complete;
    // Stop here: bytes after this response belong to no request of ours; feed() reports them as unconsumed.
    return HPE_PAUSED;
}

std::size_t response_reader::feed(std::span<const char> bytes) noexcept {
    if ((_state != state::head && _state != state::body) || bytes.empty()) {
        return 0;
    }
    _received += bytes.size();
    const llhttp_errno_t err = llhttp_execute(&_parser, bytes.data(), bytes.size());
    if (err == HPE_OK) {
        return bytes.size();
    }
    const char* pos = llhttp_get_error_pos(&_parser);
    const std::size_t consumed = (pos != nullptr && pos >= bytes.data() && pos <= bytes.data() + bytes.size())
                                     ? static_cast<std::size_t>(pos - bytes.data())
                                     : bytes.size();
    if (_state == state::complete && err == HPE_PAUSED) {
        return consumed;
    }
    if (_state != state::failed) {
        const stage where = _state == state::body ? stage::body : stage::head;
        fail(err == HPE_PAUSED_UPGRADE ? make_error_code(errc::malformed) : llhttp_error(err), where);
    }
    return consumed;
}

void response_reader::finish() noexcept {
    if (_state != state::head && _state != state::body) {
        return;
    }
    if (_received == 0) {
        fail(uv_error(UV_EOF), stage::head);
        return;
    }
    const stage where = _state == state::body ? stage::body : stage::head;
    const llhttp_errno_t err = llhttp_finish(&_parser);
    if (_state == state::complete || _state == state::failed) {
        return; // an until-close body completed (RFC 9112 §6.3 rule 8), or a callback failed
    }
    fail(err == HPE_OK ? uv_error(UV_EOF) : llhttp_error(err), where);
}

} // namespace mpic::net::http
