;
; hydrascope supplement to p0f's database (/etc/p0f/p0f.fp, 2012), same
; format. p0f's file predates the stacks most clients run now: a modern
; Linux SYN only hits a generic class and Windows 10/11 are missing. Each
; entry below names the capture or public source it was traced to.
; Operators add their own files with --p0f-db FILE (searched first).
;

[tcp:request]

; Linux 5.x/6.x: initial window floor(65535 / MSS) * MSS, window scale 10
; on current distributions (larger default receive buffers).
; Source: ../shared/testdata/clients/debian-clients.pcap, real Debian 12
; clients (curl, openssl, gnutls, Chromium, Firefox) on kernel 6.x; p0f
; 3.09 prints raw_sig 4:64+0:0:1460:mss*44,10:mss,sok,ts,nop,ws:df,id+:0
; (IPv4) and 6:64+0:0:1440:mss*45,10:mss,sok,ts,nop,ws:flow:0 (IPv6) and
; classifies the first only as generic "Linux 2.2.x-3.x", the second not
; at all.
label = s:unix:Linux:5.x-6.x
sig   = 4:64:0:*:mss*44,10:mss,sok,ts,nop,ws:df,id+:0
sig   = 6:64:0:*:mss*45,10:mss,sok,ts,nop,ws:flow:0
sig   = 6:64:0:*:mss*45,10:mss,sok,ts,nop,ws::0
sig   = 4:64:0:*:mss*44,7:mss,sok,ts,nop,ws:df,id+:0

; Windows 10/11: window 64240 (44 * 1460), scale 8, no timestamps.
; Sources: ../shared/testdata/ja4/http2-with-cookies.pcapng and tls3.pcapng
; (TLS 1.3 browser hellos from Windows hosts; p0f 3.09 only says generic
; "Windows NT kernel"), and FoxIO's published JA4T example for Windows
; 10/11, 64240_2-1-3-1-1-4_1460_8 (same window, option order and scale).
label = s:win:Windows:10 or 11
sig   = 4:128:0:*:mss*44,8:mss,nop,ws,nop,nop,sok:df,id+:0
sig   = 6:128:0:*:mss*44,8:mss,nop,ws,nop,nop,sok::0
sig   = 4:128:0:*:64240,8:mss,nop,ws,nop,nop,sok:df,id+:0

; macOS / iOS (Darwin) with window 65535, scale 6, timestamps and the
; trailing EOL. Sources: ../shared/testdata/ja4/macos_tcp_flags.pcap (also
; with ECN) and badcurveball.pcap; p0f 3.09 only matches them fuzzily.
label = s:unix:Mac OS X:macOS or iOS (Darwin 19+)
sig   = 4:64:0:*:65535,6:mss,nop,ws,nop,nop,ts,sok,eol+1:df:0
sig   = 4:64:0:*:65535,6:mss,nop,ws,nop,nop,ts,sok,eol+1:df,ecn:0
sig   = 6:64:0:*:65535,6:mss,nop,ws,nop,nop,ts,sok,eol+1:flow:0
