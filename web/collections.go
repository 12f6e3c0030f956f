package web

// collectionRoutes registers the address books and calendars pages.
func (s *Server) collectionRoutes() {}
