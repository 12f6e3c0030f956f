package web

// accountRoutes registers the devices, app passwords and activity pages.
func (s *Server) accountRoutes() {}
