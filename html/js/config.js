// Site configuration (static file, edited by the operator).
// janusUrl: null = derive from the page location:
//   (https ? 'wss' : 'ws') + '://' + location.host + '/janus'.
// Set a full ws:// or wss:// URL here to use another Janus server.
export const janusUrl = null;
