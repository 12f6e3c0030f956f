package web

// duplicateRoutes registers the duplicates manager.
func (s *Server) duplicateRoutes() {}
