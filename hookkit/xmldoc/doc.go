// Package xmldoc queries and edits the XML libvirt hands to hooks, and writes it back faithfully. Only
// hooks that need it import it.
//
// Parse builds a Document from a domain, network or <hookData> payload. XPath queries return typed
// results (String, Int, Bool, Nodes, Node); prefixes in expressions are bound to namespace URIs by the
// caller (Bind; qemu, lxc, bhyve, xen and dnsmasq are bound already), so "qemu:commandline" finds the
// element whatever prefix the document writes. Edits go by XPath (Set, SetAttr, Remove, AddElement,
// AddXML) or through typed helpers for the usual filter edits (SetDiskSource, ReplaceDiskSource,
// SetInterfaceBridge, ReplaceBridge, SetDescription, SetMetadata).
//
// Bytes writes the document back. Every node an edit did not touch is written exactly as it was read
// (namespace prefixes, unknown elements, comments, processing instructions, attribute order and quotes,
// character references, CDATA, whitespace, the XML declaration or its absence), so an unedited document
// comes back byte for byte; edited values are escaped so that libvirt reads back exactly what was set
// (a newline in an attribute is written &#10;). Changed reports whether anything differs.
//
// Filter turns a function into a migrate or restore filter for a hookkit.Router: it parses the current
// document, runs the function, and replaces the XML only when the document changed.
package xmldoc
