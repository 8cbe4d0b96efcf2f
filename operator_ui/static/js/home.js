// The home page shows the embed line with this server's own origin.
document.getElementById("origin").textContent = location.origin;
