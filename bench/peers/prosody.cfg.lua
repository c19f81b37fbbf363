-- Prosody 0.12 for the peers benchmark (bench/suites/peers.mjs). @NAME@ placeholders are filled in
-- by bench/peers/servers.mjs; it runs in a temp dir as the prosody user (it refuses root).
--
-- Durability: storage = "sql" (SQLite through LuaDBI, package lua-dbi-sqlite3). LuaDBI calls are
-- synchronous, so a stanza is stored before Prosody handles the next one:
--   - mod_mam (archive_expires_after = "never", default_archive_policy = true) archives every
--     one-to-one message, sender's and recipient's archives, before delivery;
--   - mod_offline stores messages for an offline recipient;
--   - MUC rooms are persistent and archived by mod_muc_mam (muc_log_all_rooms, muc_log_by_default).
--   The stream management ack (mod_smacks, <a h/>) counts a stanza once it has been handled.
-- SQLite as Prosody opens it: no pragmas are set, so SQLite's defaults apply (rollback journal,
-- synchronous=FULL: an fsync per commit, one transaction per store operation). Prosody 0.12 has no
-- setting for it; the "nosync" runs put the database on tmpfs, where fsync is a no-op.
daemonize = false
pidfile = "@DIR@/prosody.pid"
data_path = "@DIR@/data"
network_backend = "epoll"
log = { warn = "*stderr" }
interfaces = { "127.0.0.1" }
c2s_ports = { @C2S_PORT@ }
c2s_require_encryption = false
allow_unencrypted_plain_auth = false
s2s_ports = { }
http_ports = { @HTTP_PORT@ }
http_interfaces = { "127.0.0.1" }
https_ports = { }
consider_websocket_secure = true
cross_domain_websocket = true
authentication = "internal_hashed"
storage = "sql"
sql = { driver = "SQLite3", database = "@DB@" }
archive_expires_after = "never"
default_archive_policy = true
max_archive_query_results = 50
-- No ack requests from the server during the load (the client acks when asked, and asks itself);
-- the queue of unacknowledged stanzas then has to hold a whole burst. mod_smacks preallocates that
-- queue per session (16 bytes a slot: 1.6 MB at 100,000), so the memory step, on a server of its
-- own, runs with mod_smacks' default of 500 slots (@SMACKS_QUEUE@ is filled in per start).
smacks_max_unacked_stanzas = 100000
smacks_max_queue_size = @SMACKS_QUEUE@
-- No rate limits on c2s (mod_limits is not loaded).
modules_enabled = {
  "roster"; "saslauth"; "disco"; "ping"; "presence"; "message"; "iq";
  "smacks"; "mam"; "offline"; "websocket"; "http";
  -- The memory step forces a Lua GC and reads collectgarbage("count") through prosodyctl shell.
  "admin_shell";
}
admin_socket = "@DIR@/prosody.sock"
modules_disabled = { "s2s"; "tls"; "register"; "posix"; }
VirtualHost "@HOST@"
Component "conference.@HOST@" "muc"
  modules_enabled = { "muc_mam" }
  muc_log_all_rooms = true
  muc_log_by_default = true
  muc_room_default_persistent = true
  muc_room_default_public = true
  muc_room_default_presence_broadcast = { moderator = true }
  muc_max_occupants = 20000
  muc_room_default_history_length = 0
  muc_room_locking = false
  restrict_room_creation = false
