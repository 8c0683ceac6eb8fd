// libFuzzer target for the HTTP response reader (llhttp + our head/body bounds): arbitrary bytes from a server
// must never crash, hang or break the reader's invariants (body within the cap, header count within the limit,
// exactly one of complete/failed/in-progress, an error code whenever it failed). The first input byte picks the
// limits, HEAD or not, and the feed step; leftover bytes after a complete response are read as the next response
// on a kept-alive connection (llhttp_reset path), as the client does.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "net/http/response_reader.hh"

using mpic::net::http::reader_limits;
using mpic::net::http::response_reader;

namespace {

void check(bool ok) {
    if (!ok) {
        std::abort();
    }
}

void check_invariants(const response_reader& r, const reader_limits& l) {
    check(r.body().size() <= l.body_cap);
    check(r.headers().size() <= l.max_header_count);
    check(r.failed() == static_cast<bool>(r.error()));
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) {
        return 0;
    }
    const std::uint8_t control = data[0];
    const reader_limits limits{static_cast<std::size_t>(1 + (control & 0x07) * 4),
                               static_cast<std::size_t>(64 << ((control >> 3) & 0x03)),
                               static_cast<std::size_t>((control & 0x20) != 0 ? 16 : 4096)};
    const bool head_request = (control & 0x40) != 0;
    const std::size_t step = (control & 0x80) != 0 ? 1 : 97;
    std::span<const char> rest(reinterpret_cast<const char*>(data + 1), size - 1);

    response_reader reader;
    for (int response = 0; response < 4; ++response) {
        reader.start(limits, head_request);
        while (!rest.empty() && !reader.complete() && !reader.failed()) {
            const std::size_t n = std::min(step, rest.size());
            const std::size_t used = reader.feed(rest.first(n));
            check(used <= n);
            check_invariants(reader, limits);
            rest = rest.subspan(used);
            if (used < n) {
                check(reader.complete() || reader.failed()); // only a finished response leaves bytes unconsumed
                break;
            }
        }
        if (!reader.complete() && !reader.failed()) {
            reader.finish(); // EOF
            check(reader.complete() || reader.failed());
        }
        check_invariants(reader, limits);
        if (!reader.complete() || rest.empty()) {
            break;
        }
    }
    return 0;
}
