#pragma once
// Helpers that turn the libuv handle lifetime rule into code (style.md §5): "the handle's memory can only be
// reclaimed or reused from inside the uv_close_cb or afterwards" (libuv docs/src/design.rst). Objects embed their
// uv handles (libuv's intrusive model); container_of recovers the owner from the handle pointer a callback receives,
// replacing handle->data casts (h2o H2O_STRUCT_FROM_MEMBER, Node ContainerOf).

#include <cassert>
#include <cstddef>
#include <type_traits>

#include <uv.h>

namespace mpic::core {

/// Byte offset of `field` inside T. Computed on uninitialised, suitably aligned storage: no T is constructed and
/// only the member's address is formed, which is what offsetof does, but it also works for non-standard-layout T
/// (offsetof is only conditionally supported there). Constant-folded by the optimiser.
template <class T, class M>
std::ptrdiff_t member_offset(M T::*field) noexcept {
    alignas(T) unsigned char probe[sizeof(T)];
    T* fake = reinterpret_cast<T*>(probe);
    return reinterpret_cast<unsigned char*>(&(fake->*field)) - probe;
}

/// The object of type T whose member `field` lives at `member`. Precondition: `member` really is that field of a
/// live T (the usual container_of contract; nothing can check it).
template <class T, class M>
T* container_of(M* member, M T::*field) noexcept {
    return reinterpret_cast<T*>(reinterpret_cast<unsigned char*>(member) - member_offset(field));
}

/// Any uv handle as the uv_handle_t "base class" (every uv_*_t starts with the uv_handle_t fields).
template <class Handle>
uv_handle_t* as_handle(Handle* handle) noexcept {
    static_assert(std::is_standard_layout_v<Handle>, "libuv handles are C structs");
    return reinterpret_cast<uv_handle_t*>(handle);
}

/// Closes the uv handle `owner->*Field` and deletes `owner` from the close callback, never earlier.
/// Preconditions: `owner` was allocated with `new`, its handle was initialised with uv_*_init and is not already
/// closing, and the call is made on the loop's thread. After the call the owner must not be touched: it is freed
/// during a later loop iteration. Usage: `close_then_delete<&dns_socket::poll>(sock);`.
template <auto Field, class T>
void close_then_delete(T* owner) noexcept {
    using handle_type = std::remove_reference_t<decltype(owner->*Field)>;
    uv_handle_t* handle = as_handle(&(owner->*Field));
    assert(!uv_is_closing(handle));
    uv_close(handle, [](uv_handle_t* closed) { delete container_of(reinterpret_cast<handle_type*>(closed), Field); });
}

/// Closes every handle of `loop` that is not already closing, with no close callback, and returns how many it
/// closed. Use it only for handles whose memory outlives the loop (members of long-lived objects) or in tests as
/// the libuv MAKE_VALGRIND_HAPPY step; heap objects must be closed by their owners with close_then_delete, or
/// they leak. A clean component leaves nothing for this function to close.
std::size_t walk_and_close(uv_loop_t* loop) noexcept;

/// The end of a loop's life: walk_and_close, run the loop until the close callbacks have fired, then
/// uv_loop_close. Returns uv_loop_close's status (0 when the loop is clean; UV_EBUSY if something kept
/// re-arming). `closed_handles`, if given, receives the number of handles walk_and_close had to close.
int close_loop(uv_loop_t* loop, std::size_t* closed_handles = nullptr) noexcept;

/// Number of handles on `loop` that are not closing (active or not). Tests use it to check a component released
/// everything it opened.
std::size_t open_handle_count(uv_loop_t* loop) noexcept;

} // namespace mpic::core
