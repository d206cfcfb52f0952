// A Socket.IO server as apps set one up: an http server with its own routes, Socket.IO on
// top. Prints its port; the tests point `check` at a plain WebSocket path on it.
const http = require('http');
const { Server } = require('socket.io');

const server = http.createServer((req, res) => {
  res.writeHead(404, { 'Content-Type': 'text/plain' });
  res.end('not found');
});
const io = new Server(server);
io.on('connection', () => {});
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
