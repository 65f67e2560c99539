-- mod_sasl2_compat012: lets Debian 12's Prosody 0.12.3 serve the 2023
-- prosody-modules mod_sasl2, mod_sasl2_bind2 and mod_sasl2_fast
-- (0.0~hg20230223), which expect newer Prosody internals. Test harness
-- only (tests/harness/prosody.py, sasl2=True); written for xtalk from the
-- facts in its issue 14:
--  1. connections lack ssl_info/ssl_peerfinished/ssl_exportkeyingmaterial:
--     mod_sasl2's stream-features hook errors and the client waits forever;
--  2. mod_sasl2_fast reads the stream header's 'from' from event.stream,
--     which 0.12 does not pass (and offers <fast/> only with it);
--  3. 0.12's util.datetime wants whole seconds (FAST's token expiry);
--  4. stanzas lack get_child_attr (FAST's <user-agent id> lookup);
--  5. mod_saslauth's stream-features hook runs after mod_sasl2's and
--     replaces session.sasl_handler with its own, which has no tls-exporter
--     binding; FAST copies the bindings from that handler at <authenticate>
--     and HT-SHA-256-EXPR (offered from mod_sasl2's handler) then fails.
--     The binding goes back to FAST's handler alone: the SCRAM handler is
--     left as it is, because one that claimed a binding without offering
--     -PLUS (0.12 registers -PLUS for tls-unique only) would read a
--     client's 'y' flag as a downgrade and fail SCRAM (malformed-request).
module:set_global();

local st = require "util.stanza";
local dt = require "util.datetime";
local portmanager = require "core.portmanager";

-- (4)
if not st.stanza_mt.get_child_attr then
	function st.stanza_mt.get_child_attr(self, name, xmlns, attr)
		local child = self:get_child(name, xmlns);
		return child and child.attr[attr] or nil;
	end
end

-- (3)
if not dt.compat012_whole_seconds then
	local datetime = dt.datetime;
	dt.datetime = function (t) return datetime(t and math.floor(t)); end
	dt.compat012_whole_seconds = true;
end

-- (1) on the connection class, once.
local function add_tls_methods(conn)
	local mt = conn and getmetatable(conn);
	local iface = mt and type(mt.__index) == "table" and mt.__index;
	if not iface or iface.ssl_info then return; end
	function iface:ssl_info()
		local sock = self:socket();
		return sock and sock.info and sock:info() or nil;
	end
	function iface:ssl_peerfinished()
		local sock = self:socket();
		return sock and sock.getpeerfinished and sock:getpeerfinished() or nil;
	end
	function iface:ssl_exportkeyingmaterial(label, len, context)
		local sock = self:socket();
		if not (sock and sock.exportkeyingmaterial) then return nil; end
		return sock:exportkeyingmaterial(label, len, context);
	end
end

-- (2) remember the 'to' of our reply header (the client's 'from').
local c2s_sessions = module:shared("/*/c2s/sessions");
local function wrap_listener(service)
	local listener = service and service.listener;
	if not listener or listener.compat012 then return; end
	listener.compat012 = true;
	local onconnect = listener.onconnect;
	listener.onconnect = function (conn, ...)
		local ret = onconnect(conn, ...);
		local session = c2s_sessions[conn];
		if session and session.open_stream then
			local open_stream = session.open_stream;
			session.open_stream = function (sess, from, to, ...)
				sess.compat012_stream_from = to;
				return open_stream(sess, from, to, ...);
			end
		end
		return ret;
	end
end
wrap_listener(portmanager.get_service("c2s"));
wrap_listener(portmanager.get_service("c2s_direct_tls"));
module:hook_global("service-added", function (event)
	if event.name == "c2s" or event.name == "c2s_direct_tls" then
		wrap_listener(event.service);
	end
end);

-- Before mod_sasl2 (priority 1) builds its offer: (1), (2). Between it and
-- mod_saslauth: keep mod_sasl2's handler for (5).
function module.add_host(module)
	module:hook("stream-features", function (event)
		local origin = event.origin;
		if origin.type ~= "c2s_unauthed" then return; end
		add_tls_methods(origin.conn);
		if not event.stream then
			event.stream = { from = origin.compat012_stream_from };
		end
	end, 10);
	module:hook("stream-features", function (event)
		local origin = event.origin;
		if origin.type == "c2s_unauthed" then
			origin.compat012_sasl2_handler = origin.sasl_handler;
		end
	end, 0.5);
	-- After mod_sasl2_fast's hook (100) made its handler the session's,
	-- before mod_sasl2's (0) runs the exchange.
	module:hook_tag("urn:xmpp:sasl:2", "authenticate", function (session)
		local fast, offered = session.sasl_handler, session.compat012_sasl2_handler;
		session.compat012_sasl2_handler = nil;
		if not (fast and fast.fast and offered and offered.profile.cb) then return; end
		local exporter = offered.profile.cb["tls-exporter"];
		if not exporter then return; end
		local cb, userdata = {}, {};
		for k, v in pairs(fast.profile.cb or {}) do cb[k] = v; end
		for k, v in pairs(fast.userdata or {}) do userdata[k] = v; end
		cb["tls-exporter"] = exporter;
		userdata["tls-exporter"] = offered.userdata and offered.userdata["tls-exporter"];
		fast.profile.cb, fast.userdata = cb, userdata;
	end, 90);
end
