#include "core/uv_util.hh"

namespace mpic::core {

std::size_t walk_and_close(uv_loop_t* loop) noexcept {
    std::size_t closed = 0;
    uv_walk(
        loop,
        [](uv_handle_t* handle, void* arg) {
            if (!uv_is_closing(handle)) {
                uv_close(handle, nullptr);
                ++*static_cast<std::size_t*>(arg);
            }
        },
        &closed);
    return closed;
}

int close_loop(uv_loop_t* loop, std::size_t* closed_handles) noexcept {
    std::size_t closed = 0;
    int status = UV_EBUSY;
    // A close callback may in principle open a new handle; a few rounds settle any such chain, and a loop that is
    // still busy after them is reported, not spun on forever.
    for (int round = 0; round < 4 && status == UV_EBUSY; ++round) {
        closed += walk_and_close(loop);
        uv_run(loop, UV_RUN_DEFAULT);
        status = uv_loop_close(loop);
    }
    if (closed_handles != nullptr) {
        *closed_handles = closed;
    }
    return status;
}

std::size_t open_handle_count(uv_loop_t* loop) noexcept {
    std::size_t count = 0;
    uv_walk(
        loop,
        [](uv_handle_t* handle, void* arg) {
            if (!uv_is_closing(handle)) {
                ++*static_cast<std::size_t*>(arg);
            }
        },
        &count);
    return count;
}

} // namespace mpic::core
